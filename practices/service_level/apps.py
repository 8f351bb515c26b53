import os

from django.utils.translation import gettext_lazy as _

from itsm.core.practices import HomePanel, PracticeConfig, WorkspaceSection


class ServiceLevelConfig(PracticeConfig):
    name = "practices.service_level"
    label = "service_level"
    verbose_name = _("Service level management")

    practice = "service_level"
    practice_url = "service-level:report"
    section = WorkspaceSection(_("Service levels"), "service-level:report", order=90)
    home_panels = (
        HomePanel(
            "service_level.breaching",
            "service_level/home_breaching.html",
            "practices.service_level.home.breaching",
            order=10,
        ),
    )
    kpis = "practices.service_level.reports.kpis"
    beat = {
        "service-level-sweep": {
            "task": "practices.service_level.tasks.sweep_timers",
            "schedule": float(os.environ.get("SLA_SWEEP_SECONDS", "15")),
        },
    }
    enums = {
        "TimerStateEnum": "practices.service_level.models.Timer.State",
        "EscalationStateEnum": "practices.service_level.models.Escalation.State",
        "AgreementKindEnum": "practices.service_level.models.Agreement.Kind",
    }
    demo = "practices.service_level.demo"

    def connect(self):
        from itsm.core.signals import record_changed

        from . import receivers

        record_changed.connect(receivers.evaluate_timers, dispatch_uid="service_level.evaluate")
