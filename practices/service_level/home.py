"""The agent home's "Breaching soon" block: the targets of the agent's teams that fall
due within ``BREACHING_SOON`` (as the queues' filter of that name) or are overdue, most urgent first, and (for whoever
leads a team) how many broke this week. Three queries, however many timers."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from .models import Timer
from .queries import BREACHING_SOON

SHOWN = 8

State = Timer.State


def breaching(request) -> dict | None:
    user = request.user
    teams = sorted(user.team_ids)
    if not teams:
        return None
    now = timezone.now()
    live = Timer.objects.filter(
        team__in=teams, stopped_at=None, due_at__lte=now + BREACHING_SOON
    ).filter(Q(state=State.RUNNING) | Q(state=State.BREACHED))
    rows = list(
        live.select_related("agreement", "target__calendar").order_by("due_at", "pk")[:SHOWN]
    )
    for timer in rows:
        model = ContentType.objects.get_for_id(timer.content_type_id).model_class()
        timer.record_url = model.url_for_number(timer.record_number)
    week = now - timedelta(days=7)
    return {
        "timers": rows,
        "soon_count": live.count() if len(rows) == SHOWN else len(rows),
        "soon_minutes": int(BREACHING_SOON.total_seconds() // 60),
        "breached_this_week": Timer.objects.filter(
            team__in=teams, breached=True, breached_at__gte=week
        ).count(),
    }
