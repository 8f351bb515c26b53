from django.utils.translation import gettext_lazy as _

from itsm.core.practices import PracticeConfig


class ServiceDeskConfig(PracticeConfig):
    """The agent workspace, the self-service portal, saved views and search: where every
    practice's records meet their people."""

    name = "practices.service_desk"
    label = "service_desk"
    verbose_name = _("Service desk")

    practice = "service_desk"
    search_sources = "practices.service_desk.search.source"
    practice_url = "portal-home"
