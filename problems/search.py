"""Problems in the full-text search, as two sources:

* ``known_errors`` (offered as suggestions while someone types an issue's title): staff
  find every known error; everyone else only those with a published workaround, opened at
  the portal's known error page and summarised by the workaround alone.
* ``problems``: every problem, for staff only (end users find none).
"""

from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from itsm.core.search import SearchSource

#: Columns of the search vectors and their weights (the migrations use the same): staff
#: search problems by everything; known errors are searched by what an end user may read
#: of them (title and workaround), so no word of an internal description can be probed.
FIELDS = {"title": "A", "workaround": "B", "description": "C"}
PUBLIC_FIELDS = {"title": "A", "workaround": "B"}
PUBLIC_VECTOR = "public_search_vector"
SUMMARY_CHARS = 200


def _is_staff(user) -> bool:
    return bool(getattr(user, "is_agent", False))


def _known_errors(user):
    from .models import Problem

    return Problem.objects.known_errors_for(user)


def _problems(user):
    from .models import Problem

    return Problem.objects.visible_to(user)


def _known_error_url(problem, user) -> str:
    if _is_staff(user):
        return reverse("problems:detail", args=[problem.number])
    return reverse("problems:portal-known-error", args=[problem.number])


def _problem_url(problem, user) -> str:
    return reverse("problems:detail", args=[problem.number])


def _workaround(problem, user) -> str:
    return Truncator(" ".join((problem.workaround or "").split())).chars(SUMMARY_CHARS)


def _description(problem, user) -> str:
    text = Truncator(" ".join((problem.description or "").split())).chars(160)
    return f"{problem.number} · {text}".rstrip(" ·")


def sources() -> list[SearchSource]:
    from .models import Problem

    return [
        SearchSource(
            key="known_errors",
            label=_("Known errors"),
            singular=_("Known error"),
            portal_label=_("Known issue"),
            model=Problem,
            queryset=_known_errors,
            fields=PUBLIC_FIELDS,
            vector_column=PUBLIC_VECTOR,
            # its fields are all strong (title and workaround): the same vector serves
            suggest_vector_column=PUBLIC_VECTOR,
            url=_known_error_url,
            summary=_workaround,
            suggest=True,
            order=20,
        ),
        SearchSource(
            key="problems",
            label=_("Problems"),
            model=Problem,
            queryset=_problems,
            fields=FIELDS,
            url=_problem_url,
            summary=_description,
            order=40,
        ),
    ]
