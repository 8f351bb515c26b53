from django.utils.translation import gettext_lazy as _

from itsm.core.practices import (
    PortalPanel,
    PracticeConfig,
    RecordPanel,
    WorkQueue,
    WorkspaceSection,
)


class ProblemsConfig(PracticeConfig):
    name = "problems"
    verbose_name = _("Problem management")

    practice = "problem"
    practice_url = "problems:queue"
    section = WorkspaceSection(
        _("Problems"),
        "problems:queue",
        order=20,
        links=(
            (_("Known error database"), "problems:known-errors", ""),
            (_("Incident trends"), "problems:trends", ""),
        ),
    )
    work_queues = (WorkQueue(_("Problems"), "problems.Problem", "problems:queue", order=30),)
    record_panels = (
        RecordPanel(
            key="problems.workarounds",
            models=("incidents.incident",),
            template="problems/panel_incident.html",
            context="problems.views.incident_panel",
            screen="workspace",
            order=20,
            # linked and matching problems, a title search, the uses of those shown
            queries=3,
        ),
        RecordPanel(
            key="problems.public_workarounds",
            models=("incidents.incident",),
            template="problems/panel_portal_incident.html",
            context="problems.views.portal_incident_panel",
            screen="portal",
            order=20,
        ),
    )
    portal_panels = (
        PortalPanel(
            key="known_issues",
            template="problems/portal_known_issues.html",
            context="problems.views.known_issues_panel",
            order=30,
        ),
    )
    kpis = "problems.kpis.problem_kpis"
    search_sources = "problems.search.sources"
    demo = "problems.demo"
