"""Schedule windows' occurrences: a maintenance window (when changes to these CIs should
happen) or a blackout (no changes), one-off or recurring.

A recurring window's RRULE is read in the window's own time zone: its first occurrence
(``starts_at``) is taken as a wall-clock time there, every later occurrence starts at that
same wall-clock time and lasts as long in wall-clock time. A weekly Sunday 02:00-04:00
window in Europe/Berlin therefore starts at 01:00 UTC in winter and 00:00 UTC in summer:
02:00 stays 02:00 across daylight saving time. Occurrences are returned in UTC.

A lifted freeze ends when it was lifted (``lifted_at``); an inactive window has none.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as du_rrule
from django.utils.translation import gettext

#: Recurrences finer than hourly would make windows of minutes; they are refused.
ALLOWED_FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY")
#: The most occurrences one call expands (a safety net against a huge range).
MAX_OCCURRENCES = 5000
#: A freeze "until lifted" ends this far after it starts (and is lifted by hand).
OPEN_ENDED = timedelta(days=3650)


@dataclass(frozen=True)
class Occurrence:
    window: object
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end

    def contains(self, start: datetime, end: datetime) -> bool:
        return self.start <= start and end <= self.end


def zone(name: str) -> ZoneInfo:
    """The named time zone; ``ValueError`` naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            gettext("'%(name)s' is not a time zone (e.g. Europe/Berlin, UTC).") % {"name": name}
        ) from None


def normalise_rrule(text: str) -> str:
    """The RRULE's parts, upper case, without a leading ``RRULE:``."""
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    return text.upper()


def parse_rrule(text: str, dtstart: datetime):
    """The rule of ``text`` from ``dtstart`` (a naive wall-clock time); ``ValueError`` with
    a sentence a person can act on."""
    text = normalise_rrule(text)
    if not text:
        raise ValueError(gettext("Empty recurrence."))
    if "\n" in text or "DTSTART" in text:
        raise ValueError(
            gettext("Only the RRULE's parts (FREQ=WEEKLY;BYDAY=SU); the start is starts_at.")
        )
    parts = dict(part.partition("=")[::2] for part in text.split(";") if part)
    freq = parts.get("FREQ")
    if freq not in ALLOWED_FREQUENCIES:
        raise ValueError(
            gettext("FREQ is one of %(frequencies)s.")
            % {"frequencies": ", ".join(ALLOWED_FREQUENCIES)}
        )
    if "UNTIL" in parts:
        # A naive start needs a naive UNTIL (read in the window's zone).
        parts["UNTIL"] = parts["UNTIL"].rstrip("Z")
        text = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        return du_rrule.rrulestr(text, dtstart=dtstart, forceset=False)
    except (ValueError, TypeError) as error:
        raise ValueError(gettext("Not a valid RRULE (%(error)s).") % {"error": error}) from None


def validate(rrule_text: str, time_zone: str, starts_at: datetime | None) -> dict:
    """Errors by field (``rrule``, ``time_zone``) for a window's recurrence."""
    errors = {}
    tz = None
    try:
        tz = zone(time_zone or "")
    except ValueError as error:
        errors["time_zone"] = str(error)
    if rrule_text and rrule_text.strip():
        start = starts_at or datetime(2000, 1, 1, tzinfo=UTC)
        local = start.astimezone(tz or UTC).replace(tzinfo=None)
        try:
            rule = parse_rrule(rrule_text, local)
            rule.after(local, inc=True)
        except ValueError as error:
            errors["rrule"] = str(error)
    return errors


def _aware(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


def occurrences(window, start: datetime, end: datetime) -> list[Occurrence]:
    """The window's occurrences overlapping [start, end), in UTC, in order."""
    if not window.active or start >= end:
        return []
    stop = end
    if window.lifted_at is not None:
        stop = min(stop, window.lifted_at)
    found = []
    if not (window.rrule or "").strip():
        ends = window.ends_at if window.lifted_at is None else min(window.ends_at, window.lifted_at)
        if window.starts_at < stop and start < ends:
            found.append(Occurrence(window, window.starts_at, ends))
        return found
    try:
        tz = zone(window.time_zone or "UTC")
    except ValueError:
        tz = ZoneInfo("UTC")
    first = window.starts_at.astimezone(tz).replace(tzinfo=None)
    length = window.ends_at.astimezone(tz).replace(tzinfo=None) - first
    try:
        rule = parse_rrule(window.rrule, first)
    except ValueError:
        return []
    # Wall-clock bounds a day wider than asked (zone offsets), filtered exactly in UTC.
    low = start.astimezone(tz).replace(tzinfo=None) - length - timedelta(days=1)
    high = stop.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    for local_start in rule.xafter(max(low, first), inc=True):
        if local_start > high or len(found) >= MAX_OCCURRENCES:
            break
        occ_start = _aware(local_start, tz)
        occ_end = _aware(local_start + length, tz)
        if window.lifted_at is not None:
            occ_end = min(occ_end, window.lifted_at)
        if occ_start < stop and start < occ_end and occ_start < occ_end:
            found.append(Occurrence(window, occ_start, occ_end))
    return found


def all_occurrences(windows, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence of these windows in [start, end), by start."""
    found = [occ for window in windows for occ in occurrences(window, start, end)]
    return sorted(found, key=lambda o: (o.start, o.end, o.window.pk or 0))


def covering(windows, start: datetime, end: datetime) -> Occurrence | None:
    """An occurrence of one of these windows that holds all of [start, end)."""
    for window in windows:
        for occ in occurrences(window, start, end):
            if occ.contains(start, end):
                return occ
    return None


def overlapping(windows, start: datetime, end: datetime) -> Occurrence | None:
    """The first occurrence of one of these windows that overlaps [start, end)."""
    found = all_occurrences(windows, start, end)
    return found[0] if found else None
