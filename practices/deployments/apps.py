from django.utils.translation import gettext_lazy as _

from itsm.core.practices import PracticeConfig, RecordPanel, WorkQueue, WorkspaceSection


class DeploymentsConfig(PracticeConfig):
    name = "practices.deployments"
    label = "deployments"
    verbose_name = _("Deployment management")

    practice = "deployment"
    practice_url = "deployments:list"
    section = WorkspaceSection(_("Deployments"), "deployments:list", order=28)
    work_queues = (
        WorkQueue(_("Deployments"), "deployments.Deployment", "deployments:list", order=46),
    )
    record_panels = (
        RecordPanel(
            key="deployments.release",
            models=("releases.release",),
            template="deployments/_release_panel.html",
            context="practices.deployments.views.release_panel",
            screen="workspace",
            order=10,
            queries=1,
        ),
    )
    beat = {
        "deployments-github-recheck": {
            "task": "practices.deployments.tasks.recheck_github_gates",
            "schedule": 60.0,
        },
    }
    enums = {
        "DeploymentStateEnum": "practices.deployments.workflows.DeploymentState",
        "DeploymentStrategyEnum": "practices.deployments.models.Strategy",
        "GateDecisionEnum": "practices.deployments.models.GateDecision",
    }
    search_sources = "practices.deployments.search.source"
    kpis = "practices.deployments.kpis.deployment_kpis"
    demo = "practices.deployments.demo"
