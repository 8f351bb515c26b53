from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "itsm.audit"
    label = "audit"
    verbose_name = "Audit log"
