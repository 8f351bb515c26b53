from django.utils.translation import gettext_lazy as _

from itsm.core.practices import PortalPanel, PracticeConfig, RecordPanel, WorkspaceSection


class KnowledgeConfig(PracticeConfig):
    name = "practices.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge management")

    practice = "knowledge"
    practice_url = "knowledge:list"
    section = WorkspaceSection(_("Knowledge"), "knowledge:list", order=45)
    portal_panels = (
        PortalPanel(
            key="knowledge",
            template="knowledge/portal_home_panel.html",
            context="practices.knowledge.panels.portal_home",
            order=20,
        ),
    )
    record_panels = (
        RecordPanel(
            key="knowledge-articles",
            models=("incidents.incident",),
            template="knowledge/_incident_panel.html",
            context="practices.knowledge.panels.incident_articles",
            screen="workspace",
            order=20,
            queries=3,  # linked articles, suggested ones (all words, then any)
        ),
    )
    kpis = "practices.knowledge.kpis.knowledge_kpis"
    search_sources = "practices.knowledge.search.source"
    # Hourly; each article and review date is reminded once, however often this runs.
    beat = {
        "knowledge-review-reminders": {
            "task": "practices.knowledge.tasks.send_review_reminders",
            "schedule": 3600.0,
        },
    }
    demo = "practices.knowledge.demo"
