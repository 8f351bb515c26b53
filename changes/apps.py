from django.utils.translation import gettext_lazy as _

from itsm.core.practices import (
    HomePanel,
    PracticeConfig,
    RecordPanel,
    WorkQueue,
    WorkspaceSection,
)


class ChangesConfig(PracticeConfig):
    name = "changes"
    verbose_name = _("Change enablement")

    practice = "change_enablement"
    practice_url = "changes:queue"
    section = WorkspaceSection(
        _("Changes"),
        "changes:queue",
        order=25,
        links=(
            (_("Standard changes"), "changes:templates", ""),
            (_("Changes to approve"), "changes:queue", "view=awaiting_my_approval"),
            (_("CAB meetings"), "changes:cab-list", ""),
            (_("Calendar"), "changes:calendar", ""),
        ),
    )
    home_panels = (
        HomePanel(
            "changes.approvals",
            "changes/home_approvals.html",
            "changes.approvals.home",
            order=21,
        ),
    )
    beat = {
        "changes-escalate-overdue-approvals": {
            "task": "changes.tasks.escalate_overdue_approvals",
            "schedule": 300.0,
        },
    }
    work_queues = (
        WorkQueue(_("Changes"), "changes.Change", "changes:queue", order=40),
        WorkQueue(_("Change tasks"), "changes.ChangeTask", "changes:task-queue", order=41),
    )
    record_panels = (
        RecordPanel(
            key="changes.incident",
            models=("incidents.incident",),
            template="changes/panel_incident.html",
            context="changes.panels.incident_panel",
            order=30,
            # the changes that caused it and the recent changes to its CIs, in one query
        ),
        RecordPanel(
            key="changes.problem",
            models=("problems.problem",),
            template="changes/panel_problem.html",
            context="changes.panels.problem_panel",
            order=30,
        ),
        RecordPanel(
            key="changes.freeze",
            models=("incidents.incident",),
            template="changes/_freeze_panel.html",
            context="changes.calendar.incident_panel",
            order=31,
            # a major incident's freezes (none for another incident: no query)
        ),
    )
    sla_profiles = {"changes.Change": "changes.sla.PROFILE"}
    search_sources = "changes.search.sources"
    kpis = "changes.kpis.change_kpis"
    demo = "changes.demo"
    enums = {
        "ChangeApprovalKindEnum": "changes.models.ApprovalLevel.Kind",
        "ChangeApprovalModeEnum": "changes.models.ApprovalLevel.Mode",
        "AgendaItemDecisionEnum": "changes.models.AgendaItem.Decision",
        "CabMeetingStatusEnum": "changes.models.CabMeeting.Status",
        "CabVerdictEnum": "changes.cab.Verdict",
        "ApprovalDecisionEnum": "itsm.core.approvals.Decision",
        "ChangeStateEnum": "changes.workflows.ChangeState",
        "ChangeRiskEnum": "changes.models.RiskLevel",
        "ChangeImpactEnum": "changes.models.ImpactLevel",
    }

    def connect(self) -> None:
        from itsm.core import schedule

        from .conflicts import under_change

        # Approved change windows and maintenance windows, for other practices.
        schedule.register("changes", under_change)
