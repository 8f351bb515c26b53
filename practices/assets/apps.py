from django.utils.translation import gettext_lazy as _

from itsm.core.practices import PortalPanel, PracticeConfig, WorkspaceSection


class AssetsConfig(PracticeConfig):
    name = "practices.assets"
    label = "assets"
    verbose_name = _("IT asset management")

    practice = "it_asset"
    search_sources = "practices.assets.search.source"
    practice_url = "assets:list"
    section = WorkspaceSection(_("Assets"), "assets:list", order=50)
    portal_panels = (
        PortalPanel(
            key="my-devices",
            template="assets/portal_my_devices.html",
            context="practices.assets.views.my_devices_panel",
            order=60,
        ),
    )
    kpis = "practices.assets.kpis.asset_kpis"
    # Hourly: a reminder goes out within the hour its notice window opens; each contract
    # and date is reminded once, however often this runs.
    beat = {
        "assets-contract-reminders": {
            "task": "practices.assets.tasks.send_contract_reminders",
            "schedule": 3600.0,
        },
    }
    demo = "practices.assets.demo"
