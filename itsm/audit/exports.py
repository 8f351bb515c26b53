"""The audit log as a file: CSV (every text cell through the kernel's ``safe_cell``, so a
spreadsheet runs nothing) or JSON lines (one event a line, as stored), for a period."""

import csv
import json
from datetime import datetime, time

from django import forms
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext

from itsm.core.exports import safe_cell
from itsm.core.filters import bounded_datetime

from .models import AuditEvent

EXPORT_FORMATS = ("csv", "jsonl")
COLUMNS = (
    "sequence",
    "at",
    "action",
    "actor_username",
    "client_address",
    "user_agent",
    "target_type",
    "target_id",
    "target_repr",
    "before",
    "after",
    "details",
    "rewritten_at",
    "prev_hash",
    "hash",
)


def parse_moment(text: str, *, end: bool = False):
    """A date (the start of that day, or its end for ``until``) or an ISO date-time; a
    naive one in the current time zone. ``ValueError`` when it is neither."""
    text = (text or "").strip()
    try:
        day = parse_date(text) if len(text) == 10 else None
        moment = parse_datetime(text) if day is None else None
    except ValueError:
        day = moment = None
    if day is not None:
        moment = datetime.combine(day, time.max if end else time.min)
    if moment is None:
        raise ValueError(
            gettext("%(text)r is not a date (2026-12-31) or an ISO date-time.")
            % {"text": text[:40]}
        )
    try:
        return bounded_datetime(moment)
    except Exception as exc:  # a ValidationError of a wild offset
        raise ValueError(gettext("A UTC offset between -15:59 and +15:59.")) from exc


class MomentField(forms.CharField):
    def __init__(self, *, end=False, **kwargs):
        self.end = end
        super().__init__(required=False, max_length=40, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_moment(value, end=self.end)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class ExportRequestForm(forms.Form):
    format = forms.ChoiceField(choices=[(f, f) for f in EXPORT_FORMATS])
    since = MomentField()
    until = MomentField(end=True)


def events(since=None, until=None):
    rows = AuditEvent.objects.order_by("sequence")
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lte=until)
    return rows.iterator(chunk_size=2000)


def _safe_json(value):
    """JSON whose every text (keys too) is a safe cell: a spreadsheet that splits the
    cell finds no formula in any part of it (the JSON lines export keeps the values as
    they are)."""
    if isinstance(value, dict):
        return {safe_cell(key): _safe_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_safe_json(item) for item in value]
    return safe_cell(value) if isinstance(value, str) else value


class _Echo:
    def write(self, value):
        return value


def csv_lines(rows):
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in rows:
        cells = []
        for column in COLUMNS:
            value = getattr(event, column)
            if column in ("before", "after", "details"):
                value = "" if value is None else json.dumps(_safe_json(value), sort_keys=True)
            elif isinstance(value, datetime):
                value = value.isoformat()
            cells.append(value if isinstance(value, int) else safe_cell(value))
        yield writer.writerow(cells)


def jsonl_lines(rows):
    for event in rows:
        data = {}
        for column in COLUMNS:
            value = getattr(event, column)
            data[column] = value.isoformat() if isinstance(value, datetime) else value
        yield json.dumps(data, sort_keys=True, ensure_ascii=False) + "\n"


def stream(format: str, since=None, until=None):
    """(content type, an iterator of text) for ``format``."""
    rows = events(since, until)
    if format == "csv":
        return "text/csv; charset=utf-8", csv_lines(rows)
    return "application/x-ndjson; charset=utf-8", jsonl_lines(rows)
