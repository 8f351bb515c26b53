from django.utils.translation import gettext_lazy as _

from itsm.core.practices import PortalSource, PracticeConfig, WorkQueue, WorkspaceSection

QUEUE = "incidents:queue"


class IncidentsConfig(PracticeConfig):
    name = "incidents"
    verbose_name = _("Incident management")

    practice = "incident"
    practice_url = QUEUE
    section = WorkspaceSection(
        _("Incidents"),
        QUEUE,
        order=10,
        links=(
            (_("My open"), QUEUE, "view=my_open"),
            (_("Unassigned in my teams"), QUEUE, "view=unassigned_in_my_teams"),
            (_("Major incidents"), QUEUE, "view=major"),
            (_("Breaching soon"), QUEUE, "view=breaching_soon"),
        ),
    )
    work_queues = (WorkQueue(_("Incidents"), "incidents.Incident", QUEUE, order=10),)
    portal_sources = (
        PortalSource(
            key="incidents",
            label=_("My issues"),
            my_records="incidents.services.reported_by",
            detail_url_name="incidents:portal-detail",
            order=10,
            singular=_("Issue"),
            waiting="incidents.views.portal_waiting",
        ),
    )
    kpis = "incidents.kpis.incident_kpis"
    search_sources = "incidents.search.source"
    sla_profiles = {"incidents.Incident": "incidents.sla.PROFILE"}
    beat = {
        "incidents-auto-close": {
            "task": "incidents.tasks.close_resolved_incidents",
            "schedule": 300.0,
        },
    }
    enums = {
        "LevelEnum": "incidents.models.Level",
        "IncidentStateEnum": "incidents.workflows.IncidentState",
    }
    demo = "incidents.demo"
