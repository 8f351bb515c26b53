"""Live figures of problem management for the practice map."""

from datetime import timedelta

from django.db.models import Avg, Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import KnownErrorDeflection, Problem, WorkaroundUse
from .workflows import OPEN, ProblemState


def problem_kpis() -> list[tuple[str, str]]:
    now = timezone.now()
    counts = Problem.objects.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN)),
        known=Count("pk", filter=Q(state=ProblemState.KNOWN_ERROR)),
        public=Count("pk", filter=Q(state=ProblemState.KNOWN_ERROR, workaround_public=True)),
        mttke=Avg(
            F("known_error_at") - F("created_at"),
            filter=Q(known_error_at__gte=now - timedelta(days=90)),
        ),
    )
    uses = WorkaroundUse.objects.filter(used_at__gte=now - timedelta(days=30)).aggregate(
        n=Count("pk"), rating=Avg("effectiveness")
    )
    deflected = KnownErrorDeflection.objects.filter(created_at__gte=now - timedelta(days=30))
    mttke = counts["mttke"]
    return [
        (_("Open problems"), str(counts["open"])),
        (_("Known errors"), str(counts["known"])),
        (_("Known errors with a public workaround"), str(counts["public"])),
        (
            _("Mean time to known error (90 days)"),
            f"{mttke.total_seconds() / 86400:.1f} d" if mttke else "—",
        ),
        (_("Workarounds used (30 days)"), str(uses["n"])),
        (
            _("Workaround effectiveness (30 days)"),
            f"{uses['rating']:.1f} / 5" if uses["rating"] else "—",
        ),
        # Employees who said a published workaround solved their issue (no incident).
        (_("Issues solved by a published workaround (30 days)"), str(deflected.count())),
    ]
