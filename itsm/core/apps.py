from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "itsm.core"
    label = "core"
    verbose_name = _("Kernel")

    def ready(self):
        from django.db.models.signals import post_migrate

        from .numbering import ensure_sequences

        post_migrate.connect(ensure_sequences, sender=self)
