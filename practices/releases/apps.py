from django.utils.translation import gettext_lazy as _

from itsm.core.practices import PracticeConfig, WorkQueue, WorkspaceSection


class ReleasesConfig(PracticeConfig):
    name = "practices.releases"
    label = "releases"
    verbose_name = _("Release management")

    practice = "release"
    practice_url = "releases:list"
    section = WorkspaceSection(_("Releases"), "releases:list", order=27)
    work_queues = (WorkQueue(_("Releases"), "releases.Release", "releases:list", order=45),)
    enums = {
        "ReleaseStateEnum": "practices.releases.workflows.ReleaseState",
        "ReleaseTypeEnum": "practices.releases.models.ReleaseType",
    }
    search_sources = "practices.releases.search.source"
    kpis = "practices.releases.kpis.release_kpis"
    demo = "practices.releases.demo"
