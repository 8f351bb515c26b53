from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "practices.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge management"

    def ready(self):
        from itsm.core.search import register
        from practices import registry as practices
        from practices.service_desk.registry import (
            PortalPanel,
            RecordPanel,
            WorkspaceSection,
            registry,
        )

        from . import panels, search
        from .kpis import knowledge_kpis

        register(search.source())
        practices.register_app("knowledge", "knowledge:list")
        practices.register_kpis("knowledge", knowledge_kpis)
        registry.add_workspace_section(
            WorkspaceSection(
                key="knowledge",
                label="Knowledge",
                url_name="knowledge:list",
                practice="Knowledge management",
                order=45,
            )
        )
        registry.add_portal_panel(
            PortalPanel(
                key="knowledge",
                template="knowledge/portal_home_panel.html",
                context=panels.portal_home,
                order=20,
            )
        )
        registry.add_record_panel(
            RecordPanel(
                key="knowledge-articles",
                models=("incidents.incident",),
                template="knowledge/_incident_panel.html",
                context=panels.incident_articles,
                screen="workspace",
                order=20,
                queries=3,  # linked articles, suggested ones (all words, then any)
            )
        )
