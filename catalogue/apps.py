from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Service catalogue"

    def ready(self):
        from practices import registry as practices
        from practices.service_desk.registry import (
            PortalPanel,
            PortalSource,
            WorkspaceSection,
            registry,
        )
        from practices.service_level import registry as service_level

        from . import views
        from .models import ServiceRequest
        from .sla import PROFILE

        service_level.register(ServiceRequest, PROFILE)
        practices.register_app("service_request", "fulfilment:queue")
        registry.add_workspace_section(
            WorkspaceSection(
                key="fulfilment",
                label="Fulfilment tasks",
                url_name="fulfilment:queue",
                practice="Service request management",
                order=20,
            )
        )
        registry.add_portal_source(
            PortalSource(
                key="requests",
                label="My requests",
                my_records=views.my_requests,
                detail_url_name="catalogue:request",
                order=20,
            )
        )
        registry.add_portal_panel(
            PortalPanel(
                key="catalogue",
                template="catalogue/portal_home_panel.html",
                context=views.home_panel,
                order=10,
            )
        )
