from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from itsm.core.practices import PracticeConfig, WorkspaceSection


def install_defaults(sender, **kwargs) -> None:
    """The standard CI classes and relationship types, after every migrate (and after a
    test database flush), added only where missing."""
    from django.apps import apps

    from .defaults import install

    install(kwargs.get("apps") or apps)


class CmdbConfig(PracticeConfig):
    name = "cmdb"
    verbose_name = _("Service configuration management")

    practice = "service_configuration"
    search_sources = "cmdb.search.source"
    practice_url = "cmdb:list"
    section = WorkspaceSection(_("Configuration items"), "cmdb:list", order=40)
    kpis = "cmdb.kpis.cmdb_kpis"
    demo = "cmdb.demo"

    def connect(self):
        post_migrate.connect(install_defaults, sender=self)

        from django.db.models.signals import post_delete, post_save

        from . import receivers
        from .models import AttributeDefinition, CIClass

        post_save.connect(receivers.class_saved, sender=CIClass)
        post_save.connect(receivers.attribute_saved, sender=AttributeDefinition)
        post_delete.connect(receivers.attribute_deleted, sender=AttributeDefinition)
