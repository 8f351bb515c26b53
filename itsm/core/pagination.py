"""Keyset (cursor) pagination over any ordering of non-null fields.

The cursor holds the ordering values of the last row of a page; the next page is the rows
that sort after it. A deep page costs what the first page costs (an index range scan),
unlike OFFSET, and there is no COUNT over the whole table."""

import base64
import binascii
import json
from datetime import date, time
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .filters import bounded_datetime


def ordering_of(queryset) -> list[str]:
    ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering or [])
    names = [o.lstrip("-") for o in ordering]
    pk = queryset.model._meta.pk.name
    if "pk" not in names and pk not in names:
        descending = bool(ordering) and ordering[-1].startswith("-")
        ordering.append(f"-{pk}" if descending else pk)
    return [o.replace("pk", pk) if o.lstrip("-") == "pk" else o for o in ordering]


#: Longer than any cursor this module writes (a few sort values).
MAX_CURSOR = 4096


def _plain(value):
    """A JSON value the field's ``to_python`` reads back (dates, times, decimals)."""
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _encode(values: list) -> str:
    raw = json.dumps([_plain(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, ordering: list[str], model) -> list:
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        values = None
    if not isinstance(values, list) or len(values) != len(ordering):
        raise ValidationError({"cursor": _("This cursor is not valid for this list.")})
    decoded = []
    for spec, value in zip(ordering, values, strict=True):
        field = model._meta.get_field(spec.lstrip("-"))
        # A cursor comes from the client: every value must be a valid value of its field
        # (a bad one is a 400, never a 500 from the database layer).
        try:
            if value is None or isinstance(value, list | dict):
                raise ValidationError("missing")
            if field.get_internal_type() == "DateTimeField":
                value = parse_datetime(value) if isinstance(value, str) else None
                if value is None or timezone.is_naive(value):
                    raise ValidationError(_("not an aware date-time"))
                value = bounded_datetime(value)
            else:
                value = field.to_python(value)
        except (ValidationError, ValueError, TypeError):
            raise ValidationError(
                {"cursor": _("This cursor is not valid for this list.")}
            ) from None
        decoded.append(value)
    return decoded


def _after(ordering: list[str], values: list) -> Q:
    """Rows that sort strictly after ``values`` under ``ordering`` (mixed directions)."""
    condition = Q()
    for i, spec in enumerate(ordering):
        name = spec.lstrip("-")
        op = "lt" if spec.startswith("-") else "gt"
        term = Q(**{f"{name}__{op}": values[i]})
        for prev_spec, prev_value in zip(ordering[:i], values[:i], strict=True):
            term &= Q(**{prev_spec.lstrip("-"): prev_value})
        condition |= term
    # The same rows, with a plain range on the leading column that an index can seek to
    # (the OR alone is applied as a filter, so a deep page would cost its depth).
    first = ordering[0]
    bound = Q(**{f"{first.lstrip('-')}__{'lte' if first.startswith('-') else 'gte'}": values[0]})
    return bound & condition


def paginate(queryset, cursor: str | None, page_size: int):
    """One page of ``queryset`` (already ordered) after ``cursor``: (rows, next_cursor)."""
    ordering = ordering_of(queryset)
    queryset = queryset.order_by(*ordering)
    if cursor:
        queryset = queryset.filter(_after(ordering, _decode(cursor, ordering, queryset.model)))
    rows = list(queryset[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = _encode([getattr(last, spec.lstrip("-")) for spec in ordering])
    return rows, next_cursor


#: A list's count stops here ("1,000+"): counting a million rows would cost more than
#: the page itself.
COUNT_CAP = 1000


def list_page(
    request, queryset, filterset_class, params, orderings, default, page_size, links=None
):
    """One screen of a list, as every list screen shows it: ``params`` filtered by the
    type's filterset (the API's), sorted by a known column (else ``default``), one keyset
    page. ``links``: the query the sort and paging links keep (``params`` by default).

    Returns the template context: ``filterset``, ``filter_errors`` (field -> messages;
    a list with errors shows no rows), ``rows``, ``next_query`` (empty on the last page),
    ``ordering`` and ``query_without_ordering``."""
    from itsm.core.views import query_without

    filterset = filterset_class(params, queryset=queryset, request=request)
    ordering = params.get("ordering") or default
    if ordering.lstrip("-") not in orderings:
        ordering = default
    errors: dict = {}
    if filterset.is_valid():
        try:
            rows_qs = filterset.qs.order_by(ordering)
        except ValidationError as error:
            errors, rows_qs = error.message_dict, queryset.none()
    else:
        errors, rows_qs = dict(filterset.errors), queryset.none()
    cursor = params.get("cursor")
    try:
        rows, next_cursor = paginate(rows_qs, cursor, page_size)
    except ValidationError:
        cursor = None
        rows, next_cursor = paginate(rows_qs, None, page_size)
    # How many match, on the first screen: counted up to COUNT_CAP (one query that stops
    # there), or known without a query when everything fits on it.
    if cursor:
        count = None
    elif next_cursor is None:
        count = len(rows)
    else:
        count = rows_qs.order_by()[: COUNT_CAP + 1].count()
    links = params if links is None else links
    next_params = links.copy()
    next_params["cursor"] = next_cursor or ""
    return {
        "filterset": filterset,
        "filter_errors": errors,
        "rows": rows,
        "next_query": next_params.urlencode() if next_cursor else "",
        "ordering": ordering,
        "query_without_ordering": query_without(links, "ordering", "cursor"),
        "count": count,
        "count_capped": count is not None and count > COUNT_CAP,
        "count_cap": COUNT_CAP,
    }
