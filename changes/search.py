"""Changes in the full-text search: staff only (end users find none)."""

from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from itsm.core.search import SearchSource

#: Columns of the search vector and their weights (the migration uses the same).
FIELDS = {"title": "A", "description": "B", "justification": "C", "implementation_plan": "D"}


def _changes(user):
    from .models import Change

    return Change.objects.visible_to(user)


def _url(change, user) -> str:
    return reverse("changes:detail", args=[change.number])


def _summary(change, user) -> str:
    text = Truncator(" ".join((change.description or "").split())).chars(160)
    return f"{change.number} · {text}".rstrip(" ·")


def sources() -> list[SearchSource]:
    from .models import Change

    return [
        SearchSource(
            key="changes",
            label=_("Changes"),
            singular=_("Change"),
            model=Change,
            queryset=_changes,
            fields=FIELDS,
            url=_url,
            summary=_summary,
            order=45,
        )
    ]
