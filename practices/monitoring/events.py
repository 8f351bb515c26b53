"""What every receiver reads a monitoring tool's payload into: one ``Event`` per alert
the payload carries, whatever the tool, and ``PayloadRefused`` naming the field that is
wrong (a 400 that says what is wrong)."""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext_lazy as _

#: Severities, most severe first; ``clear`` says a condition is over.
SEVERITIES = ("critical", "major", "minor", "warning", "info", "clear")

#: What an event says of its alert.
FIRING = "firing"
RESOLVED = "resolved"
ACKNOWLEDGED = "acknowledged"
STATUSES = (FIRING, RESOLVED, ACKNOWLEDGED)

#: Bounds of what is kept of a payload's texts (longer ones are cut, never refused).
SUMMARY_LENGTH = 255
TEXT_LENGTH = 10_000
NAME_LENGTH = 200
KEY_LENGTH = 255
#: At most this many labels (and links) per event: more is a 400.
MAX_LABELS = 100
#: The widest UTC offset a time may carry.
MAX_OFFSET = timedelta(hours=15, minutes=59)
#: At most this many alerts per payload (Alertmanager's groups, Grafana's): more is a 400.
MAX_ALERTS = 1000


class PayloadRefused(ValueError):
    """The payload cannot be read: ``field`` is the path of the value at fault
    (``alerts[3].labels``), ``message`` says what is wrong with it."""

    def __init__(self, field: str, message):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def as_errors(self) -> dict:
        return {self.field: [str(self.message)]}


@dataclass(frozen=True)
class Event:
    """One alert's news from a monitoring tool, normalised.

    ``key`` identifies the alert at its source across re-sends (Alertmanager's
    fingerprint, PagerDuty's dedup key, Zabbix's event id, or source + node + type +
    resource + metric for a generic event): a re-send is an update of the same alert,
    never a new one."""

    source_kind: str
    key: str
    status: str
    severity: str
    summary: str
    description: str = ""
    node: str = ""
    resource: str = ""
    metric: str = ""
    event_type: str = ""
    occurred_at: datetime | None = None
    ended_at: datetime | None = None
    labels: dict = field(default_factory=dict)
    links: tuple = ()
    #: Alertmanager's groupKey (the alerts it grouped together), for correlation.
    group_key: str = ""
    #: The tool's own id of this event (Zabbix's event id), when it has one.
    source_event_id: str = ""
    #: This alert's own part of the payload, as received.
    raw: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r}")


# Reading values -------------------------------------------------------------------------------


def text(value, path: str, *, limit: int = TEXT_LENGTH, required: bool = False) -> str:
    """A string (numbers are taken as their text), cut at ``limit``; NUL and other
    control characters but tab and line breaks are refused."""
    if value is None or value == "":
        if required:
            raise PayloadRefused(path, _("This field is required."))
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadRefused(path, _("A string is expected."))
    value = str(value)
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise PayloadRefused(path, _("Control characters are not accepted."))
    return value[:limit]


def mapping(value, path: str, *, required: bool = False) -> dict:
    """An object of string values (labels, annotations, details), at most ``MAX_LABELS``."""
    if value is None:
        if required:
            raise PayloadRefused(path, _("This field is required."))
        return {}
    if not isinstance(value, dict):
        raise PayloadRefused(path, _("An object is expected."))
    if len(value) > MAX_LABELS:
        raise PayloadRefused(path, _("At most %(n)d entries.") % {"n": MAX_LABELS})
    return {
        text(k, f"{path}.{k}", limit=NAME_LENGTH, required=True): text(
            v if not isinstance(v, dict | list) else str(v), f"{path}.{k}"
        )
        for k, v in value.items()
    }


def items(value, path: str, *, limit: int = MAX_ALERTS, required: bool = True) -> list:
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise PayloadRefused(path, _("A list is expected."))
    if not value and required:
        raise PayloadRefused(path, _("At least one is expected."))
    if len(value) > limit:
        raise PayloadRefused(path, _("At most %(n)d entries.") % {"n": limit})
    return value


def moment(value, path: str, *, required: bool = False) -> datetime | None:
    """An RFC 3339 time with its offset (Alertmanager's zero time ``0001-01-01T00:00:00Z``
    reads as none); a naive one, an offset beyond ±15:59 or a time that does not exist in
    UTC (``9999-12-31T23:59:59-10:00``) is refused."""
    from django.utils.dateparse import parse_datetime

    raw = text(value, path, limit=64, required=required)
    if not raw:
        return None
    try:
        parsed = parse_datetime(raw)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise PayloadRefused(path, _("A time with its offset is expected (RFC 3339)."))
    if parsed.year <= 1:
        return None
    offset = parsed.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET:
        raise PayloadRefused(path, _("The time's offset must lie within ±15:59."))
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise PayloadRefused(path, _("This time is out of range.")) from None
    return parsed


def bounded_key(value: str) -> str:
    """A key of at most ``KEY_LENGTH`` characters; a longer one keeps its beginning and
    ends with its SHA-256, so two long keys that differ late stay two keys."""
    if len(value) <= KEY_LENGTH:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{value[: KEY_LENGTH - len(digest) - 1]}#{digest}"


def one_of(value, path: str, choices, *, default=None) -> str:
    raw = text(value, path, limit=NAME_LENGTH)
    if not raw and default is not None:
        return default
    if raw.lower() not in choices:
        raise PayloadRefused(path, _("One of: %(values)s.") % {"values": ", ".join(choices)})
    return raw.lower()


def payload_object(value) -> dict:
    if not isinstance(value, dict):
        raise PayloadRefused("body", _("A JSON object is expected."))
    return value
