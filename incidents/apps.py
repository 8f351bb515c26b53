from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incident management"

    def ready(self):
        from itsm.core import search
        from practices import registry as practices
        from practices.service_desk.registry import PortalSource, WorkspaceSection, registry
        from practices.service_level import registry as service_level

        from . import search as incident_search
        from .kpis import incident_kpis
        from .models import Incident
        from .sla import PROFILE

        service_level.register(Incident, PROFILE)
        search.register(incident_search.source())

        practices.register_app("incident", "incidents:queue")
        practices.register_kpis("incident", incident_kpis)

        registry.add_workspace_section(
            WorkspaceSection(
                key="incidents",
                label="Incidents",
                url_name="incidents:queue",
                practice="Incident management",
                order=10,
            )
        )
        registry.add_portal_source(
            PortalSource(
                key="incidents",
                label="My issues",
                my_records=lambda user: (
                    Incident.objects.visible_to(user).filter(caller=user).order_by("-created_at")
                ),
                detail_url_name="incidents:portal-detail",
                order=10,
            )
        )
