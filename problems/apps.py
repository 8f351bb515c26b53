from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    name = "problems"
    verbose_name = "Problem management"

    def ready(self):
        from itsm.core import search
        from practices import registry as practices
        from practices.service_desk.registry import (
            PortalPanel,
            RecordPanel,
            WorkspaceSection,
            registry,
        )

        from . import search as problem_search
        from . import views
        from .kpis import problem_kpis

        practices.register_app("problem", "problems:queue")
        practices.register_kpis("problem", problem_kpis)

        registry.add_workspace_section(
            WorkspaceSection(
                key="problems",
                label="Problems",
                url_name="problems:queue",
                practice="Problem management",
                order=20,
            )
        )
        registry.add_record_panel(
            RecordPanel(
                key="problems.workarounds",
                models=("incidents.incident",),
                template="problems/panel_incident.html",
                context=views.incident_panel,
                screen="workspace",
                order=20,
                # linked and matching problems, a title search, the uses of those shown
                queries=3,
            )
        )
        registry.add_record_panel(
            RecordPanel(
                key="problems.public_workarounds",
                models=("incidents.incident",),
                template="problems/panel_portal_incident.html",
                context=views.portal_incident_panel,
                screen="portal",
                order=20,
            )
        )
        registry.add_portal_panel(
            PortalPanel(
                key="known_issues",
                template="problems/portal_known_issues.html",
                context=views.known_issues_panel,
                order=30,
            )
        )

        for source in problem_search.sources():
            search.register(source)
