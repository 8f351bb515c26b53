"""Blocks change enablement adds to other practices' pages: on an incident, the changes
that caused it and the recent changes to its CIs (the first thing to look at when
something breaks); on a problem, the changes that resolve it."""

from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from .models import Change

#: How far back an incident's page looks for changes to its CIs.
RECENT_DAYS = 7
ROWS = 5


def incident_panel(request, incident):
    if request is None or not request.user.is_agent:
        return None
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    caused = Change.caused_incidents.through.objects.filter(
        change_id=OuterRef("pk"), incident_id=incident.pk
    )
    on_its_cis = Change.configuration_items.through.objects.filter(
        change_id=OuterRef("pk"),
        configurationitem_id__in=incident.configuration_items.through.objects.filter(
            incident_id=incident.pk
        ).values("configurationitem_id"),
    )
    rows = list(
        Change.objects.annotate(is_cause=Exists(caused))
        .filter(Q(is_cause=True) | Q(Exists(on_its_cis), actual_start__gte=since))
        .only("number", "title", "state", "actual_start")
        .order_by("-is_cause", F("actual_start").desc(nulls_last=True))[: ROWS * 2]
    )
    return {
        "caused": [c for c in rows if c.is_cause],
        "recent": [c for c in rows if not c.is_cause][:ROWS],
        "days": RECENT_DAYS,
    }


def problem_panel(request, problem):
    if request is None or not request.user.is_agent:
        return None
    return {
        "resolving": list(
            Change.objects.filter(resolves_problems=problem).only("number", "title", "state")
        )
    }
