"""Reference pickers: what a field that points at other rows (a caller, a team, a service,
CIs, a category…) may offer, found by typing.

Each kind of row that forms pick is declared once as a ``Lookup``: the rows a form may
offer (the same queryset as the field's choices, narrowed to what the person may see with
``itsm.core.scoping.visible_choices``), the fields a typed term is matched on, what is
posted (the primary key, or a username), how a row is shown (label, detail, badge) and
the parameters that narrow it for a dependent field (a category's subcategories, a
team's members). The kernel declares people and teams (``itsm/accounts/lookups.py``); a
practice declares its own in ``<app>/lookups.py``, found at first use, so the kernel
imports no practice.

Served by ``/api/v1/lookups/<key>/?q=`` (``itsm.api.lookups``) and drawn by the widgets of
``itsm.core.widgets``."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from importlib import import_module
from importlib.util import find_spec
from operator import or_
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.models import Q, QuerySet

from .scoping import visible_choices

#: The most rows one answer lists (a picker shows a handful; typing narrows).
MAX_RESULTS = 50
DEFAULT_RESULTS = 20
#: The longest term searched for.
MAX_TERM = 100


@dataclass(frozen=True)
class Param:
    """A parameter that narrows a lookup for a dependent field (``parent`` for a
    category's subcategories, ``team`` for a team's members): how it filters the rows,
    and the values of a row it matches (drawn on each choice, so a page can tell whether
    the chosen row still fits when the field it depends on changes)."""

    filter: Callable[[QuerySet, int], QuerySet]
    values: Callable[[object], list]


@dataclass(frozen=True)
class Lookup:
    key: str
    #: the rows the field offers (its choices), before scoping to the person
    queryset: Callable[[], QuerySet]
    #: fields a typed term is matched on (every word in one of them, case-insensitive)
    search: tuple[str, ...]
    #: what the form posts for a row: ``"pk"`` or a field (``"username"``)
    value: str = "pk"
    label: Callable[[object], str] = str
    detail: Callable[[object], str] | None = None
    badge: Callable[[object], str] | None = None
    params: dict[str, Param] = field(default_factory=dict)
    ordering: tuple[str, ...] = ()
    #: prefetches the rows need to be drawn (a person's teams…)
    prefetch: tuple[str, ...] = ()
    select: tuple[str, ...] = ()

    # The rows ---------------------------------------------------------------------------

    def rows(self, user, related: bool = True) -> QuerySet:
        """What ``user`` may be offered: the field's choices they may see (``related``:
        with what drawing their detail needs; without, one query for names alone)."""
        queryset = visible_choices(self.queryset(), user)
        if self.select and related:
            queryset = queryset.select_related(*self.select)
        if self.prefetch and related:
            queryset = queryset.prefetch_related(*self.prefetch)
        return queryset.order_by(*self.ordering) if self.ordering else queryset

    def find(self, user, term: str = "", params: dict | None = None, limit=DEFAULT_RESULTS):
        """Up to ``limit`` rows matching ``term`` (every word), narrowed by ``params``;
        and whether there are more."""
        queryset = self.rows(user)
        for name, value in (params or {}).items():
            queryset = self.params[name].filter(queryset, value)
        for word in term.split():
            queryset = queryset.filter(
                reduce(or_, (Q(**{f"{name}__icontains": word}) for name in self.search))
            )
        found = list(queryset[: limit + 1])
        return found[:limit], len(found) > limit

    def chosen(self, values, user=None) -> dict:
        """The rows of ``values`` (by ``value``), to draw them: those ``user`` may see, or
        any row when no person is given (a form's current values: the serializer decides
        what may be saved). One query, even for none."""
        keys = [str(v) for v in values if v not in ("", None)]
        if self.value == "pk":
            keys = [int(k) for k in keys if k.isascii() and k.isdigit() and len(k) < 19]
        # A key no row has keeps the query (and a page's count) the same when none is chosen.
        base = self.queryset().model._default_manager.all() if user is None else self.rows(user)
        queryset = base.filter(
            **{f"{self.value}__in": keys or ([0] if self.value == "pk" else [""])}
        )
        if self.select:
            queryset = queryset.select_related(*self.select)
        if self.prefetch:
            queryset = queryset.prefetch_related(*self.prefetch)
        return {str(self.value_of(row)): row for row in queryset}

    # How a row is shown -----------------------------------------------------------------

    def value_of(self, row) -> str:
        return str(getattr(row, self.value))

    def data(self, row) -> dict:
        """The values of the parameters this row matches (``{"team": "1 4"}``)."""
        return {
            name: " ".join(str(v) for v in param.values(row)) for name, param in self.params.items()
        }

    def item(self, row) -> dict:
        """A row as an answer lists it and a picker draws it."""
        return {
            "value": self.value_of(row),
            "label": self.label(row),
            "detail": self.detail(row) if self.detail else "",
            "badge": self.badge(row) if self.badge else "",
            "data": self.data(row),
        }


# The registry ---------------------------------------------------------------------------

_registry: dict[str, Lookup] = {}
_discovered = False


def register(lookup: Lookup) -> Lookup:
    _registry[lookup.key] = lookup
    return lookup


def _discover() -> None:
    """Import ``<app>.lookups`` of every project app that has one (once)."""
    global _discovered
    if _discovered:
        return
    base = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        if not Path(config.path).resolve().is_relative_to(base):
            continue
        name = f"{config.name}.lookups"
        if find_spec(name) is not None:
            import_module(name)
    _discovered = True


def get(key: str) -> Lookup | None:
    _discover()
    return _registry.get(key)


# What a person's contact card counts -----------------------------------------------------


@dataclass(frozen=True)
class PersonCount:
    """A figure on a person's contact card (their open incidents…), declared by the
    practice that owns the records: one query each. It counts only the records the
    viewer may see (their ``visible_to``: under data separation another team's or
    customer's records are not counted)."""

    label: str
    #: person -> the records counted (a queryset of a type with ``visible_to``)
    records: Callable[[object], QuerySet]
    #: person -> where the figure's records are listed ("" for nowhere)
    url: Callable[[object], str] = lambda person: ""
    order: int = 100

    def count(self, person, viewer) -> int:
        return self.records(person).visible_to(viewer).count()


_person_counts: list[PersonCount] = []


def register_person_count(count: PersonCount) -> PersonCount:
    _person_counts.append(count)
    _person_counts.sort(key=lambda c: c.order)
    return count


def person_counts() -> list[PersonCount]:
    _discover()
    return list(_person_counts)
