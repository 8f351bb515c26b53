"""Live figures of change enablement for the practice map (the last 90 days)."""

from datetime import timedelta

from django.db.models import Avg, Count, Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import UNSUCCESSFUL, Change, ChangeKind, ClosureCode
from .workflows import OPEN, ChangeState

DAYS = 90
#: Outcomes of a post-implementation review (cancelled and rejected changes were never
#: implemented: they count neither way).
REVIEWED = (ClosureCode.SUCCESSFUL, ClosureCode.SUCCESSFUL_WITH_ISSUES, *UNSUCCESSFUL)


def _percent(part: int, whole: int) -> str:
    if not whole:
        return "—"
    return gettext("%(percent)s%% (%(part)s of %(whole)s)") % {
        "percent": f"{100 * part / whole:.0f}",
        "part": part,
        "whole": whole,
    }


def change_kpis() -> list[tuple[str, str]]:
    since = timezone.now() - timedelta(days=DAYS)
    caused = Change.caused_incidents.through.objects.filter(change_id=OuterRef("pk"))
    closed = Change.objects.filter(closed_at__gte=since, closure_code__in=REVIEWED)
    outcomes = closed.aggregate(
        reviewed=Count("pk"),
        successful=Count("pk", filter=~Q(closure_code__in=UNSUCCESSFUL)),
        causing=Count("pk", filter=Q(Exists(caused))),
        lead=Avg(F("actual_start") - F("created_at"), filter=Q(actual_start__isnull=False)),
    )
    raised = Change.objects.filter(created_at__gte=since).aggregate(
        total=Count("pk"), emergency=Count("pk", filter=Q(model__kind=ChangeKind.EMERGENCY))
    )
    now = Change.objects.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN)),
        authorise=Count("pk", filter=Q(state=ChangeState.AUTHORISE)),
    )
    lead = outcomes["lead"]
    return [
        (_("Open changes"), str(now["open"])),
        (_("Awaiting authorisation"), str(now["authorise"])),
        (
            _("Change success rate (90 days)"),
            _percent(outcomes["successful"], outcomes["reviewed"]),
        ),
        (_("Emergency changes (90 days)"), _percent(raised["emergency"], raised["total"])),
        (
            _("Changes causing incidents (90 days)"),
            _percent(outcomes["causing"], outcomes["reviewed"]),
        ),
        (
            _("Lead time, raised to implementation (90 days)"),
            gettext("%(days)s d") % {"days": f"{lead.total_seconds() / 86400:.1f}"}
            if lead
            else "—",
        ),
    ]
