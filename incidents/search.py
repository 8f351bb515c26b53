"""Incidents in the full-text search: title and description only, so a search never
reaches a work note; an end user finds only the incidents they may see (their own)."""

from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from itsm.core.search import SearchSource

#: Columns of the search vector and their weights (the migration uses the same).
FIELDS = {"title": "A", "description": "B"}


def _queryset(user):
    from .models import Incident

    return Incident.objects.visible_to(user).only(
        "id", "number", "title", "description", "state", "caller_id"
    )


def _url(incident, user) -> str:
    name = "incidents:detail" if user.is_agent else "incidents:portal-detail"
    return reverse(name, args=[incident.number])


def _summary(incident, user) -> str:
    return f"{incident.number} · {Truncator(incident.description).chars(160)}".rstrip(" ·")


def source() -> SearchSource:
    from .models import Incident

    return SearchSource(
        key="incidents",
        label=_("Incidents"),
        model=Incident,
        queryset=_queryset,
        fields=FIELDS,
        url=_url,
        summary=_summary,
        order=30,
    )
