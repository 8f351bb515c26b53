from django.apps import AppConfig


class ServiceLevelConfig(AppConfig):
    name = "practices.service_level"
    label = "service_level"
    verbose_name = "Service level management"

    def ready(self):
        from itsm.core.signals import record_changed
        from practices import registry as practices

        from . import receivers, reports

        record_changed.connect(receivers.evaluate_timers, dispatch_uid="service_level.evaluate")
        practices.register_app("service_level", "service-level:report")
        practices.register_kpis("service_level", reports.kpis)
