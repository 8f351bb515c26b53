"""Live figures of release management for the practice map."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Release
from .workflows import OPEN, ReleaseState


def release_kpis() -> list[tuple[str, str]]:
    since = timezone.now() - timedelta(days=90)
    counts = Release.objects.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN)),
        deploying=Count("pk", filter=Q(state=ReleaseState.DEPLOY)),
        closed=Count("pk", filter=Q(state=ReleaseState.CLOSED, updated_at__gte=since)),
    )
    return [
        (_("Releases in progress"), str(counts["open"])),
        (_("Being deployed"), str(counts["deploying"])),
        (_("Closed (90 days)"), str(counts["closed"])),
    ]
