"""The audit log as a file: CSV (every text cell through the kernel's ``safe_cell``, so a
spreadsheet runs nothing) or JSON lines (one event a line, as stored), for a period."""

import csv
import json
from datetime import datetime, time

from django import forms
from django.utils.dateparse import parse_date, parse_datetime

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
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise ValueError(f"{text!r} is not a date (2026-12-31) or an ISO date-time.")
        moment = datetime.combine(day, time.max if end else time.min)
    try:
        return bounded_datetime(moment)
    except Exception as exc:  # a ValidationError of a wild offset
        raise ValueError("A UTC offset between -15:59 and +15:59.") from exc


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
                value = "" if value is None else json.dumps(value, sort_keys=True)
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
