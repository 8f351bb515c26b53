from datetime import timedelta

from django.db.models import Prefetch

from .models import Timer

#: A target "breaching soon" is due within this (the queues' filter, the agent's home).
BREACHING_SOON = timedelta(hours=1)


def sla_timers_prefetch(to_attr: str | None = None) -> Prefetch:
    """A record type's live timers (not the cancelled ones), ready to show."""
    queryset = (
        Timer.objects.exclude(state=Timer.State.CANCELLED)
        .select_related("target__calendar", "agreement")
        .order_by("metric", "pk")
    )
    return Prefetch("sla_timers", queryset=queryset, to_attr=to_attr)
