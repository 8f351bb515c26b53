from django.apps import AppConfig


class ServiceLevelConfig(AppConfig):
    name = "practices.service_level"
    label = "service_level"
    verbose_name = "Service level management"

    def ready(self):
        from itsm.core.signals import record_changed

        from . import receivers

        record_changed.connect(receivers.evaluate_timers, dispatch_uid="service_level.evaluate")
