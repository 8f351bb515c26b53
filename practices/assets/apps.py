from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "practices.assets"
    label = "assets"
    verbose_name = "IT asset management"

    def ready(self):
        from practices import registry as practices
        from practices.service_desk.registry import PortalPanel, WorkspaceSection, registry

        from .kpis import asset_kpis
        from .views import my_devices_panel

        practices.register_app("it_asset", "assets:list")
        practices.register_kpis("it_asset", asset_kpis)
        registry.add_workspace_section(
            WorkspaceSection(
                key="assets",
                label="Assets",
                url_name="assets:list",
                practice="IT asset management",
                order=50,
            )
        )
        registry.add_portal_panel(
            PortalPanel(
                key="my-devices",
                template="assets/portal_my_devices.html",
                context=my_devices_panel,
                order=60,
            )
        )
