"""Live figures of incident management for the practice map."""

from datetime import timedelta

from django.db.models import Avg, Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Incident
from .workflows import IncidentState


def incident_kpis() -> list[tuple[str, str]]:
    now = timezone.now()
    open_q = Q(state__in=IncidentState.OPEN)
    counts = Incident.objects.filter(open_q).aggregate(
        open=Count("pk"),
        major=Count("pk", filter=Q(major=True)),
        high=Count("pk", filter=Q(priority__lte=2)),
        unassigned=Count("pk", filter=Q(assigned_to__isnull=True)),
    )
    recent = Incident.objects.filter(resolved_at__gte=now - timedelta(days=30)).aggregate(
        resolved=Count("pk"), mttr=Avg(F("resolved_at") - F("created_at"))
    )
    mttr = recent["mttr"]
    mttr_text = f"{mttr.total_seconds() / 3600:.1f} h" if mttr else "—"
    return [
        (_("Open incidents"), str(counts["open"])),
        (_("Open major incidents"), str(counts["major"])),
        (_("Open P1/P2"), str(counts["high"])),
        (_("Open and unassigned"), str(counts["unassigned"])),
        (_("Resolved in 30 days"), str(recent["resolved"])),
        (_("Mean time to resolve (30 days)"), mttr_text),
    ]
