from itsm.core.practices import PracticeConfig, WorkQueue, WorkspaceSection


class ChangesConfig(PracticeConfig):
    name = "changes"
    verbose_name = "Change enablement"

    practice = "change_enablement"
    practice_url = "changes:queue"
    section = WorkspaceSection("Changes", "changes:queue", order=25)
    work_queues = (
        WorkQueue("Changes", "changes.Change", "changes:queue", order=40),
        WorkQueue("Change tasks", "changes.ChangeTask", "changes:task-queue", order=41),
    )
    search_sources = "changes.search.sources"
    kpis = "changes.kpis.change_kpis"
    enums = {
        "ChangeStateEnum": "changes.workflows.ChangeState",
        "ChangeTaskStateEnum": "changes.workflows.TaskState",
        "ChangeRiskEnum": "changes.models.RiskLevel",
        "ChangeImpactEnum": "changes.models.ImpactLevel",
    }
