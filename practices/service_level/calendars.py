"""Business-calendar arithmetic: add business time to a moment, count business time between two.

Pure Python (no models, no database). A calendar is described by a :class:`CalendarSpec`
(a time zone, weekly working periods in local wall-clock time, public holidays from the
``holidays`` package, the organization's own closed dates) or is open around the clock
(``always_open``). :class:`CalendarEngine` answers:

* ``add(start, seconds)``: the earliest moment ``t >= start`` such that
  ``seconds_between(start, t) == seconds`` (the due time of a target);
* ``seconds_between(start, end)``: business seconds in ``[start, end)`` (elapsed time);
* ``is_open(at)`` and ``next_open(at)``.

Definition of "open": an instant is open when the local clock (in ``time_zone``) shows a
time inside one of the working periods of its local weekday, and its local date is neither a
public holiday nor a closed date. So on the spring-forward day a period spanning the skipped
hour is an hour shorter, and on the fall-back day a period spanning the repeated hour is an
hour longer: the real elapsed seconds count, never the wall-clock difference.

All inputs must be aware datetimes (any time zone); all outputs are aware UTC datetimes.
Internally instants are integer microseconds since the Unix epoch, so the arithmetic is exact
at datetime's resolution; ``seconds`` is rounded to the microsecond like ``timedelta`` does.
Each local date's open intervals are computed once (in UTC) and kept in an LRU cache, and
``get_calendar`` caches one :class:`CalendarEngine` per spec.

Scans walk "units" of the timeline, ``[M(d), M(d + 1))`` with M(d) the first instant of
local midnight: ordered even where local dates go backwards (America/Moncton fell back from
00:01 to 23:01 until 2006, America/Goose_Bay until 2011).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "TWENTY_FOUR_SEVEN",
    "CalendarEngine",
    "CalendarSpec",
    "get_calendar",
]

_US = 1_000_000  # microseconds per second
_MINUTE_US = 60 * _US
_HOUR_US = 3600 * _US
_DAY_US = 86400 * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MAX_US = round((datetime.max.replace(tzinfo=UTC) - _EPOCH) / timedelta(microseconds=1))
_FAR = 1 << 62  # "infinity" for interval bounds in microseconds
#: add()/next_open() give up after this many consecutive local days without open time.
MAX_CLOSED_DAYS = 3700  # a little over ten years
#: Per-calendar caches of local date -> open intervals (about 11 years of days each).
DAY_CACHE_SIZE = 4096


# --------------------------------------------------------------------------------------
# The spec
# --------------------------------------------------------------------------------------


class _FrozenHours(Mapping):
    """An immutable, hashable ``{weekday: ((start, end), ...)}`` (what a spec keeps)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: dict[int, tuple[tuple[int, int], ...]]):
        self._data = data
        self._hash = hash(tuple(sorted(data.items())))

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self) -> Iterator[int]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _FrozenHours):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._data)


def _normalize_periods(weekday: object, periods: object) -> tuple[tuple[int, int], ...]:
    if isinstance(periods, (str, bytes)) or not isinstance(periods, Iterable):
        raise ValueError(f"hours[{weekday}] must be a sequence of (start, end) pairs")
    pairs = []
    for period in periods:
        try:
            start, end = period
        except (TypeError, ValueError):
            raise ValueError(f"hours[{weekday}]: {period!r} is not a (start, end) pair") from None
        for value in (start, end):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"hours[{weekday}]: {period!r}: minutes must be integers")
        if not 0 <= start < end <= 1440:
            raise ValueError(
                f"hours[{weekday}]: {period!r}: need 0 <= start < end <= 1440 (minutes)"
            )
        pairs.append((start, end))
    pairs.sort()
    merged: list[tuple[int, int]] = []
    for start, end in pairs:  # overlapping or touching periods become one
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


@dataclass(frozen=True)
class CalendarSpec:
    """What a business calendar is. Hashable: it is the cache key of :func:`get_calendar`.

    ``hours`` maps a weekday (0 = Monday ... 6 = Sunday) to working periods in local time,
    as minutes since local midnight: ``((start, end), ...)`` with ``0 <= start < end <= 1440``.
    On construction the periods are validated, sorted and overlapping or touching ones merged;
    days without periods are dropped; ``hours`` becomes an immutable mapping and
    ``closed_dates`` a frozenset. ``always_open`` makes every second count (hours, holidays
    and closed dates are then ignored).
    """

    time_zone: str
    always_open: bool = False
    hours: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holiday_country: str = ""
    holiday_subdivision: str = ""
    closed_dates: frozenset[date] = frozenset()

    def __post_init__(self):
        if not isinstance(self.time_zone, str) or not self.time_zone:
            raise ValueError("time_zone must be an IANA time zone name")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from exc
        if not isinstance(self.hours, Mapping):
            raise ValueError("hours must be a mapping {weekday: ((start, end), ...)}")
        hours = {}
        for weekday, periods in self.hours.items():
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(
                    f"hours: weekday must be 0 (Monday) to 6 (Sunday), not {weekday!r}"
                )
            normalized = _normalize_periods(weekday, periods)
            if normalized:
                hours[weekday] = normalized
        object.__setattr__(self, "hours", _FrozenHours(dict(sorted(hours.items()))))
        closed = frozenset(self.closed_dates)
        for day in closed:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"closed_dates must hold dates, not {day!r}")
        object.__setattr__(self, "closed_dates", closed)
        object.__setattr__(self, "always_open", bool(self.always_open))
        if self.holiday_subdivision and not self.holiday_country:
            raise ValueError("holiday_subdivision needs a holiday_country")


TWENTY_FOUR_SEVEN = CalendarSpec(time_zone="UTC", always_open=True)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _holiday_dates(country: str, subdivision: str, year: int) -> frozenset[date]:
    """Public holidays of one year, as a set of local dates."""
    return frozenset(
        holidays.country_holidays(country, subdiv=subdivision or None, years=year).keys()
    )


def _to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact: see the module doc)."""
    # timestamp() divides the exact microsecond count by 10**6 (correctly rounded); at
    # |t| < 2**52 us the product is within 0.25 us of it, so round() gives it back.
    return round(moment.timestamp() * _US)


def _merge(pieces: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, disjoint intervals: overlapping or touching pieces become one."""
    pieces.sort()
    merged: list[tuple[int, int]] = []
    for a, b in pieces:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return tuple(merged)


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(0, 0, us)


def _check_moment(moment: object, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be an aware datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime ({moment!r}): give an aware datetime")
    return moment


def _duration(seconds: float) -> timedelta:
    if isinstance(seconds, timedelta):
        duration = seconds
    else:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"seconds must be a number, not {type(seconds).__name__}")
        if not math.isfinite(seconds):
            raise ValueError(f"seconds must be finite, not {seconds!r}")
        try:
            duration = timedelta(seconds=seconds)
        except OverflowError as exc:
            raise ValueError(f"seconds out of range ({seconds!r})") from exc
    if duration < timedelta(0):
        raise ValueError(f"seconds must not be negative ({seconds!r})")
    return duration


def _timedelta_us(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * _US + delta.microseconds


# --------------------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------------------


class CalendarEngine:
    """Business-time arithmetic for one :class:`CalendarSpec` (immutable, thread-safe)."""

    def __init__(self, spec: CalendarSpec):
        if not isinstance(spec, CalendarSpec):
            raise TypeError("spec must be a CalendarSpec")
        self.spec = spec
        self.always_open = spec.always_open
        self._tz = ZoneInfo(spec.time_zone)
        # weekday -> periods in microseconds since local midnight
        self._periods = {
            weekday: tuple((start * _MINUTE_US, end * _MINUTE_US) for start, end in periods)
            for weekday, periods in spec.hours.items()
        }
        self._never_open = not self.always_open and not self._periods
        self._closed = spec.closed_dates
        self._country = spec.holiday_country
        self._subdivision = spec.holiday_subdivision
        if self._country and not self.always_open:
            try:
                holidays.country_holidays(self._country, subdiv=self._subdivision or None)
            except NotImplementedError as exc:
                raise ValueError(
                    f"no public holidays known for {self._country!r}"
                    + (f" subdivision {self._subdivision!r}" if self._subdivision else "")
                ) from exc
        # local date -> its open intervals; "unit" ordinal -> open intervals in [M(d), M(d+1))
        self._day = lru_cache(maxsize=DAY_CACHE_SIZE)(self._compute_day)
        self._unit = lru_cache(maxsize=DAY_CACHE_SIZE)(self._compute_unit)

    def __repr__(self) -> str:
        return f"CalendarEngine({self.spec!r})"

    # ---- per-day open intervals ------------------------------------------------------

    def _local_ordinal(self, moment: datetime) -> int:
        return moment.astimezone(self._tz).toordinal()

    def is_open_date(self, day: date) -> bool:
        """Whether a local date has working periods and is no holiday nor closed date."""
        return bool(self._day(day.toordinal()))

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals ``[start, end)`` of one local date, as aware UTC datetimes."""
        if self.always_open:
            start = datetime(day.year, day.month, day.day, tzinfo=self._tz)
            nxt = day + timedelta(days=1)
            end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=self._tz)
            return [(start.astimezone(UTC), end.astimezone(UTC))]
        return [(_from_us(a), _from_us(b)) for a, b in self._day(day.toordinal())]

    def _compute_unit(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """Open intervals (UTC us) in ``[M(d), M(d + 1))``, M(d) = first local midnight of d.

        The scans (add, seconds_between, next_open) walk these units, which partition the
        timeline in order. A unit is its local date's intervals, except around a UTC-offset
        change at local midnight, where instants of the neighbouring dates may fall into it
        (zones whose clocks went back from 00:01 to 23:01, like America/Moncton until 2006,
        have local dates that go backwards for an hour).
        """
        own = self._day(ordinal)
        before, after = self._day(ordinal - 1), self._day(ordinal + 1)
        if not (own or before or after):
            return ()
        day = date.fromordinal(ordinal)
        if len(self._midnight_offsets(day)) == 1:
            return own  # no change at either midnight: exactly this date's instants
        nxt = day + timedelta(days=1)
        low = _to_us(datetime(day.year, day.month, day.day, tzinfo=self._tz))
        high = _to_us(datetime(nxt.year, nxt.month, nxt.day, tzinfo=self._tz))
        pieces = []
        for a, b in (*before, *own, *after):
            a, b = max(a, low), min(b, high)
            if b > a:
                pieces.append((a, b))
        return _merge(pieces)

    def _compute_day(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """Open intervals (UTC microseconds, sorted, disjoint) of the local date ``ordinal``."""
        periods = self._periods.get((ordinal - 1) % 7)  # ordinal 1 (0001-01-01) is a Monday
        if not periods:
            return ()
        day = date.fromordinal(ordinal)
        if day in self._closed:
            return ()
        if self._country and day in _holiday_dates(self._country, self._subdivision, day.year):
            return ()
        wall_midnight = (ordinal - _EPOCH_ORDINAL) * _DAY_US  # local midnight read as UTC
        offsets = self._midnight_offsets(day)
        if len(offsets) == 1:  # no UTC-offset change during the day: the common case
            (offset,) = offsets
            base = wall_midnight - offset
            return tuple((base + start, base + end) for start, end in periods)
        return self._compute_transition_day(wall_midnight, periods)

    def _midnight_offsets(self, day: date) -> set[int]:
        """UTC offsets (us) at this and the next local midnight, both folds (1 = no change)."""
        nxt = day + timedelta(days=1)
        offsets = set()
        for moment in (
            datetime(day.year, day.month, day.day, tzinfo=self._tz),
            datetime(nxt.year, nxt.month, nxt.day, tzinfo=self._tz),
        ):
            offsets.add(_timedelta_us(moment.utcoffset()))
            offsets.add(_timedelta_us(moment.replace(fold=1).utcoffset()))
        return offsets

    def _offset_at(self, us: int) -> int:
        """UTC offset (us) in force at the UTC instant ``us``."""
        moment = datetime.fromtimestamp(us // _US, self._tz)
        return _timedelta_us(moment.utcoffset())

    def _compute_transition_day(
        self, wall_midnight: int, periods: tuple[tuple[int, int], ...]
    ) -> tuple[tuple[int, int], ...]:
        """A day with a UTC-offset change: an instant is open when its wall clock is in a period.

        Splits the UTC timeline around the day into segments of constant offset (hourly
        samples, then bisection to the second), maps each period through each segment's
        offset and keeps the part inside the segment.
        """
        low = wall_midnight - 16 * _HOUR_US
        samples = [low + k * _HOUR_US for k in range(24 + 32 + 1)]
        sample_offsets = [self._offset_at(us) for us in samples]
        segments = []  # (from_us, to_us, offset_us)
        seg_start = -_FAR
        for k in range(len(samples) - 1):
            before, after = sample_offsets[k], sample_offsets[k + 1]
            if before == after:
                continue
            lo, hi = samples[k] // _US, samples[k + 1] // _US  # seconds
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if self._offset_at(mid * _US) == before:
                    lo = mid
                else:
                    hi = mid
            segments.append((seg_start, hi * _US, before))
            seg_start = hi * _US
        segments.append((seg_start, _FAR, sample_offsets[-1]))

        pieces = []
        for start, end in periods:
            wall_start, wall_end = wall_midnight + start, wall_midnight + end
            for seg_from, seg_to, offset in segments:
                a = max(wall_start - offset, seg_from)
                b = min(wall_end - offset, seg_to)
                if b > a:
                    pieces.append((a, b))
        return _merge(pieces)

    def _never_opens(self) -> ValueError:
        return ValueError(f"calendar {self.spec!r} has no working periods: it is never open")

    def _gave_up(self, since: datetime) -> ValueError:
        return ValueError(
            f"calendar {self.spec!r} is closed for more than {MAX_CLOSED_DAYS} days in a row "
            f"after {since.isoformat()}: gave up"
        )

    # ---- public API ------------------------------------------------------------------

    def add(self, start: datetime, seconds: float) -> datetime:
        """The earliest moment ``t >= start`` with ``seconds_between(start, t) == seconds``.

        ``seconds`` (a number or a timedelta, >= 0) is rounded to the microsecond. Returns an
        aware UTC datetime; ``add(start, 0)`` is ``start``. A result is open or the end of an
        open interval (never the start of the next one). ValueError on a naive ``start``,
        negative ``seconds``, or a calendar that never opens.
        """
        _check_moment(start, "start")
        duration = _duration(seconds)
        if self.always_open or not duration:
            try:
                return start.astimezone(UTC) + duration
            except OverflowError as exc:
                raise ValueError(f"{start.isoformat()} + {duration} is after year 9999") from exc
        if self._never_open:
            raise self._never_opens()
        remaining = _timedelta_us(duration)
        if _to_us(start) + remaining >= _MAX_US:  # business time never outruns real time
            raise ValueError(f"{start.isoformat()} + {duration} is after year 9999")
        try:
            return self._add(start, remaining)
        except OverflowError as exc:  # (date arithmetic past 9999 raises ValueError itself)
            raise ValueError(f"{start.isoformat()} + {duration} is after year 9999") from exc

    def _add(self, start: datetime, remaining: int) -> datetime:
        t = _to_us(start)
        # units are ordered; the one holding t is its local date's or a neighbour
        ordinal = self._local_ordinal(start) - 1
        unit = self._unit
        closed_run = 0
        while True:
            intervals = unit(ordinal)
            if intervals:
                closed_run = 0
                for a, b in intervals:
                    if b <= t:
                        continue
                    if a > t:
                        t = a
                    available = b - t
                    if remaining <= available:
                        return _EPOCH + timedelta(0, 0, t + remaining)
                    remaining -= available
                    t = b
            else:
                closed_run += 1
                if closed_run > MAX_CLOSED_DAYS:
                    raise self._gave_up(start)
            ordinal += 1

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds in ``[start, end)``; 0.0 when ``end <= start``."""
        _check_moment(start, "start")
        _check_moment(end, "end")
        if self.always_open:
            # Both in UTC: between two datetimes with the same tzinfo, Python subtracts wall
            # clocks (a DST change in between would be missed).
            return max((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds(), 0.0)
        a = _to_us(start)
        b = _to_us(end)
        if b <= a or self._never_open:
            return 0.0
        unit = self._unit
        total = 0
        for ordinal in range(self._local_ordinal(start) - 1, self._local_ordinal(end) + 2):
            for x, y in unit(ordinal):
                if x < a:
                    x = a
                if y > b:
                    y = b
                if y > x:
                    total += y - x
        return total / _US

    def is_open(self, at: datetime) -> bool:
        """Whether business time runs at the instant ``at``."""
        _check_moment(at, "at")
        if self.always_open:
            return True
        t = _to_us(at)  # an instant belongs to the day its local date says
        return any(a <= t < b for a, b in self._day(self._local_ordinal(at)))

    def next_open(self, at: datetime) -> datetime:
        """The first open instant ``>= at`` (``at`` itself, in UTC, when open)."""
        _check_moment(at, "at")
        if self.always_open:
            return at.astimezone(UTC)
        if self._never_open:
            raise self._never_opens()
        t = _to_us(at)
        ordinal = self._local_ordinal(at) - 1
        for _ in range(MAX_CLOSED_DAYS + 2):
            for a, b in self._unit(ordinal):
                if b > t:
                    return at.astimezone(UTC) if a <= t else _from_us(a)
            ordinal += 1
        raise self._gave_up(at)


@lru_cache(maxsize=256)
def get_calendar(spec: CalendarSpec) -> CalendarEngine:
    """The (cached) calendar of a spec."""
    return CalendarEngine(spec)
