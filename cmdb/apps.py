from django.apps import AppConfig
from django.db.models.signals import post_migrate


def install_defaults(sender, **kwargs) -> None:
    """The standard CI classes and relationship types, after every migrate (and after a
    test database flush), added only where missing."""
    from django.apps import apps

    from .defaults import install

    install(kwargs.get("apps") or apps)


class CmdbConfig(AppConfig):
    name = "cmdb"
    verbose_name = "Service configuration management"

    def ready(self):
        post_migrate.connect(install_defaults, sender=self)

        from django.db.models.signals import post_delete, post_save

        from . import receivers
        from .models import AttributeDefinition, CIClass

        post_save.connect(receivers.class_saved, sender=CIClass)
        post_save.connect(receivers.attribute_saved, sender=AttributeDefinition)
        post_delete.connect(receivers.attribute_deleted, sender=AttributeDefinition)

        from practices import registry as practices
        from practices.service_desk.registry import WorkspaceSection, registry

        from .kpis import cmdb_kpis

        practices.register_app("service_configuration", "cmdb:list")
        practices.register_kpis("service_configuration", cmdb_kpis)
        registry.add_workspace_section(
            WorkspaceSection(
                key="cmdb",
                label="Configuration items",
                url_name="cmdb:list",
                practice="Service configuration management",
                order=40,
            )
        )
