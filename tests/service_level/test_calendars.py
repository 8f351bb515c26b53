"""Business-calendar arithmetic (practices/service_level/calendars.py): no database.

What a service desk would notice: due times over weekends, holidays, lunch breaks and DST
changes, the 24x7 case, and the laws the SLA code relies on (add and seconds_between are
inverses, additivity, pausing), checked on random inputs with hypothesis.
"""

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from practices.service_level.calendars import (
    TWENTY_FOUR_SEVEN,
    CalendarSpec,
    get_calendar,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600
WORKDAYS = range(5)
MICRO = timedelta(microseconds=1)


def office(zone="Europe/Berlin", country="DE", subdivision="", closed=frozenset(), periods=None):
    periods = periods or ((9 * 60, 17 * 60),)
    return CalendarSpec(
        time_zone=zone,
        hours=dict.fromkeys(WORKDAYS, periods),
        holiday_country=country,
        holiday_subdivision=subdivision,
        closed_dates=frozenset(closed),
    )


OFFICE_DE = office()
SPLIT_BY = office(subdivision="BY", periods=((9 * 60, 12 * 60), (13 * 60, 17 * 60)))
NY_EVERY_DAY = CalendarSpec(
    time_zone="America/New_York", hours=dict.fromkeys(range(7), ((8 * 60, 20 * 60),))
)
# Night shifts around midnight, every day, Berlin: crosses every DST change at 02:00/03:00.
NIGHTS_BERLIN = CalendarSpec(
    time_zone="Europe/Berlin",
    hours=dict.fromkeys(range(7), ((0, 4 * 60), (20 * 60, 24 * 60))),
    closed_dates=frozenset({date(2026, 12, 24), date(2027, 12, 24)}),
)


def berlin(*args, **kwargs):
    return datetime(*args, tzinfo=BERLIN, **kwargs)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def utc_instant(moment):
    return moment.astimezone(UTC)


@pytest.fixture(scope="module")
def cal():
    return get_calendar(OFFICE_DE)


# ---------------------------------------------------------------------------------------
# 9-17 Monday to Friday, Europe/Berlin
# ---------------------------------------------------------------------------------------


def test_holidays_package_knows_what_these_tests_assume():
    national = holidays.country_holidays("DE", years=[2026, 2027])
    bavaria = holidays.country_holidays("DE", subdiv="BY", years=[2026, 2027])
    for day in (date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1), date(2026, 4, 3)):
        assert day in national
    assert date(2026, 1, 6) not in national and date(2026, 1, 6) in bavaria  # Epiphany
    assert date(2026, 6, 4) not in national and date(2026, 6, 4) in bavaria  # Corpus Christi
    assert date(2026, 12, 24) not in national  # Christmas Eve is a working day
    assert date(2026, 12, 25).weekday() == 4 and date(2027, 1, 1).weekday() == 4  # Fridays


def test_eight_hours_from_friday_afternoon_lands_monday_same_time(cal):
    due = cal.add(berlin(2026, 3, 6, 15), 8 * HOUR)
    assert due.tzinfo is UTC
    assert due == utc(2026, 3, 9, 14)
    assert due.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 9, 15)
    # in summer time the same local answer is another UTC hour
    assert cal.add(berlin(2026, 6, 12, 15), 8 * HOUR) == utc(2026, 6, 15, 13)
    assert cal.seconds_between(berlin(2026, 3, 6, 15), due) == 8 * HOUR


def test_from_saturday_noon_the_clock_starts_monday_morning(cal):
    due = cal.add(berlin(2026, 3, 7, 12), 8 * HOUR)
    assert due.astimezone(BERLIN) == berlin(2026, 3, 9, 17)
    assert due == utc(2026, 3, 9, 16)
    assert cal.seconds_between(berlin(2026, 3, 7, 12), berlin(2026, 3, 9, 9)) == 0


def test_starting_exactly_at_closing_time(cal):
    friday_17 = berlin(2026, 3, 6, 17)
    assert not cal.is_open(friday_17)
    assert cal.is_open(friday_17 - MICRO)
    assert cal.next_open(friday_17) == berlin(2026, 3, 9, 9)
    assert cal.add(friday_17, 8 * HOUR) == berlin(2026, 3, 9, 17)
    assert cal.add(friday_17, 1) == berlin(2026, 3, 9, 9, 0, 1)
    # a target ending exactly at closing time is due at 17:00, not at 09:00 next day
    assert cal.add(berlin(2026, 3, 6, 16), HOUR) == friday_17


def test_starting_before_opening(cal):
    early = berlin(2026, 3, 10, 7, 30)  # Tuesday
    assert cal.add(early, HOUR) == berlin(2026, 3, 10, 10)
    assert cal.add(early, 8 * HOUR) == berlin(2026, 3, 10, 17)
    assert cal.add(early, 8 * HOUR + 1) == berlin(2026, 3, 11, 9, 0, 1)
    assert cal.next_open(early) == berlin(2026, 3, 10, 9)
    assert cal.seconds_between(early, berlin(2026, 3, 10, 9, 30)) == 1800


def test_five_business_days(cal):
    assert cal.add(berlin(2026, 3, 10, 11), 5 * 8 * HOUR) == berlin(2026, 3, 17, 11)


def test_add_zero_is_start_even_when_closed(cal):
    saturday = berlin(2026, 3, 7, 12)
    assert cal.add(saturday, 0) == saturday
    assert cal.add(saturday, 0).tzinfo is UTC
    assert cal.add(saturday, timedelta(hours=1)) == berlin(2026, 3, 9, 10)  # timedelta too


def test_open_at_returns_the_same_instant(cal):
    at = berlin(2026, 3, 10, 10, 15, 30, 123456)
    assert cal.is_open(at)
    assert cal.next_open(at) == at
    assert cal.next_open(at).tzinfo is UTC


def test_seconds_between_is_zero_backwards(cal):
    assert cal.seconds_between(berlin(2026, 3, 10, 12), berlin(2026, 3, 10, 10)) == 0
    assert cal.seconds_between(berlin(2026, 3, 10, 12), berlin(2026, 3, 10, 12)) == 0


def test_inputs_in_other_time_zones_mean_the_same_instants(cal):
    start_ny = datetime(2026, 3, 6, 9, tzinfo=NEW_YORK)  # 15:00 in Berlin
    assert cal.add(start_ny, 8 * HOUR) == berlin(2026, 3, 9, 15)


def test_sub_second_durations_keep_microseconds(cal):
    start = berlin(2026, 3, 10, 16, 59, 59, 500000)
    assert cal.add(start, 0.75) == berlin(2026, 3, 11, 9, 0, 0, 250000)
    assert cal.seconds_between(start, berlin(2026, 3, 11, 9, 0, 0, 250000)) == 0.75


# ---------------------------------------------------------------------------------------
# Holidays and closed dates
# ---------------------------------------------------------------------------------------


def test_christmas_is_skipped(cal):
    christmas_eve = berlin(2026, 12, 24, 12)  # Thursday; Fri 25 and Sat 26 are holidays
    assert cal.add(christmas_eve, 8 * HOUR) == berlin(2026, 12, 28, 12)
    assert not cal.is_open(berlin(2026, 12, 25, 10))
    assert cal.next_open(berlin(2026, 12, 24, 17)) == berlin(2026, 12, 28, 9)
    without = get_calendar(office(country=""))
    assert without.add(christmas_eve, 8 * HOUR) == berlin(2026, 12, 25, 12)


def test_new_year_is_skipped(cal):
    new_years_eve = berlin(2026, 12, 31, 9)  # Thursday; Friday 2027-01-01 is a holiday
    assert cal.add(new_years_eve, 16 * HOUR) == berlin(2027, 1, 4, 17)
    assert cal.seconds_between(new_years_eve, berlin(2027, 1, 5, 9)) == 16 * HOUR


def test_subdivision_holidays_only_with_the_subdivision():
    monday = berlin(2026, 1, 5, 9)  # Tuesday 2026-01-06 is Epiphany in Bavaria only
    national = get_calendar(office())
    bavaria = get_calendar(office(subdivision="BY"))
    assert national.add(monday, 16 * HOUR) == berlin(2026, 1, 6, 17)
    assert bavaria.add(monday, 16 * HOUR) == berlin(2026, 1, 7, 17)
    assert national.is_open(berlin(2026, 1, 6, 10))
    assert not bavaria.is_open(berlin(2026, 1, 6, 10))
    # Corpus Christi, Thursday 2026-06-04
    assert bavaria.seconds_between(berlin(2026, 6, 1, 0), berlin(2026, 6, 8, 0)) == 4 * 8 * HOUR
    assert national.seconds_between(berlin(2026, 6, 1, 0), berlin(2026, 6, 8, 0)) == 5 * 8 * HOUR


def test_closed_dates_are_skipped():
    closed = get_calendar(office(closed={date(2026, 3, 10)}))  # Tuesday: company event
    assert closed.add(berlin(2026, 3, 9, 9), 16 * HOUR) == berlin(2026, 3, 11, 17)
    assert not closed.is_open(berlin(2026, 3, 10, 12))
    assert closed.next_open(berlin(2026, 3, 9, 18)) == berlin(2026, 3, 11, 9)


def test_holidays_of_several_years():
    calendar = get_calendar(OFFICE_DE)
    # Good Friday 2027-03-26 and Easter Monday 2027-03-29
    assert calendar.add(berlin(2027, 3, 25, 17), 8 * HOUR) == berlin(2027, 3, 30, 17)
    # 2030: the cache is per year
    assert calendar.add(berlin(2030, 12, 24, 9), 16 * HOUR) == berlin(2030, 12, 27, 17)


# ---------------------------------------------------------------------------------------
# Split days
# ---------------------------------------------------------------------------------------


def test_lunch_does_not_count():
    split = get_calendar(office(periods=((9 * 60, 12 * 60), (13 * 60, 17 * 60))))
    monday = date(2026, 3, 9)
    assert split.seconds_between(berlin(2026, 3, 9, 9), berlin(2026, 3, 9, 17)) == 7 * HOUR
    assert split.add(berlin(2026, 3, 9, 11), 2 * HOUR) == berlin(2026, 3, 9, 14)
    assert split.add(berlin(2026, 3, 9, 12, 30), HOUR) == berlin(2026, 3, 9, 14)
    assert split.add(berlin(2026, 3, 9, 11), HOUR) == berlin(2026, 3, 9, 12)  # not 13:00
    assert not split.is_open(berlin(2026, 3, 9, 12, 30))
    assert split.next_open(berlin(2026, 3, 9, 12, 30)) == berlin(2026, 3, 9, 13)
    assert split.add(berlin(2026, 3, 9, 9), 7 * HOUR + 1) == berlin(2026, 3, 10, 9, 0, 1)
    assert split.open_intervals(monday) == [
        (utc(2026, 3, 9, 8), utc(2026, 3, 9, 11)),
        (utc(2026, 3, 9, 12), utc(2026, 3, 9, 16)),
    ]


# ---------------------------------------------------------------------------------------
# Daylight saving time
# ---------------------------------------------------------------------------------------

SUNDAY_NIGHT_BERLIN = CalendarSpec(time_zone="Europe/Berlin", hours={6: ((60, 240),)})
SUNDAY_NIGHT_NEW_YORK = CalendarSpec(time_zone="America/New_York", hours={6: ((60, 240),)})


def test_spring_forward_berlin():
    calendar = get_calendar(SUNDAY_NIGHT_BERLIN)
    # 2026-03-29: 02:00 CET -> 03:00 CEST; 01:00-04:00 local is two real hours
    opens, closes = berlin(2026, 3, 29, 1), berlin(2026, 3, 29, 4)
    assert (closes.astimezone(UTC) - opens.astimezone(UTC)) == timedelta(hours=2)
    day = (berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0))
    assert calendar.seconds_between(*day) == 2 * HOUR
    assert calendar.open_intervals(date(2026, 3, 29)) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))
    ]
    assert calendar.add(day[0], 1.5 * HOUR) == utc(2026, 3, 29, 1, 30)  # 03:30 CEST
    assert calendar.add(day[0], 2 * HOUR) == closes
    assert calendar.add(day[0], 2 * HOUR + 1) == berlin(2026, 4, 5, 1, 0, 1)
    # an ordinary Sunday has three hours
    assert calendar.seconds_between(berlin(2026, 3, 22), berlin(2026, 3, 23)) == 3 * HOUR


def test_fall_back_berlin():
    calendar = get_calendar(SUNDAY_NIGHT_BERLIN)
    # 2026-10-25: 03:00 CEST -> 02:00 CET; 01:00-04:00 local is four real hours
    opens, closes = berlin(2026, 10, 25, 1), berlin(2026, 10, 25, 4)
    assert (closes.astimezone(UTC) - opens.astimezone(UTC)) == timedelta(hours=4)
    assert calendar.seconds_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 4 * HOUR
    assert calendar.add(berlin(2026, 10, 25), 3.5 * HOUR) == utc(2026, 10, 25, 2, 30)  # 03:30 CET
    assert calendar.add(berlin(2026, 10, 25), 4 * HOUR) == closes
    # from 02:30 CEST (the first 02:30), one business hour is 02:30 CET (the second one)
    first = berlin(2026, 10, 25, 2, 30, fold=0)
    second = berlin(2026, 10, 25, 2, 30, fold=1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    # (== between zones is always False for a time in a fold: compare UTC instants)
    assert calendar.add(first, HOUR) == utc_instant(second)
    assert calendar.is_open(first) and calendar.is_open(second)


def test_periods_starting_in_the_gap_or_the_repeated_hour():
    # An instant is open when the wall clock shows a time inside a period.
    calendar = get_calendar(CalendarSpec(time_zone="Europe/Berlin", hours={6: ((150, 300),)}))
    # 02:30-05:00 on spring-forward day: 02:30 never shows, work starts at 03:00 CEST
    assert calendar.next_open(berlin(2026, 3, 29, 0)) == berlin(2026, 3, 29, 3)
    assert calendar.seconds_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 2 * HOUR
    # fall-back day: 02:30-03:00 CEST, then the clock shows 02:00-02:30 again (closed),
    # then 02:30-05:00 CET
    assert calendar.seconds_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 3 * HOUR
    assert calendar.is_open(berlin(2026, 10, 25, 2, 45, fold=0))
    assert not calendar.is_open(berlin(2026, 10, 25, 2, 15, fold=1))
    assert calendar.is_open(berlin(2026, 10, 25, 2, 45, fold=1))


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 8), 2), (date(2026, 11, 1), 4), (date(2026, 3, 15), 3)],
)
def test_dst_new_york(day, hours):
    calendar = get_calendar(SUNDAY_NIGHT_NEW_YORK)
    midnight = datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
    opens = midnight.replace(hour=1)
    closes = midnight.replace(hour=4)
    real = (closes.astimezone(UTC) - opens.astimezone(UTC)).total_seconds()
    assert real == hours * HOUR
    assert calendar.seconds_between(midnight, midnight + timedelta(days=1)) == real
    assert calendar.add(midnight, real) == closes
    assert calendar.add(midnight, real - 60) == closes - timedelta(minutes=1)


def test_local_dates_going_backwards():
    # America/Moncton, 2005-10-30 00:01 ADT -> 2005-10-29 23:01 AST: Saturday 23:01-24:00
    # happens again after one minute of Sunday.
    moncton = ZoneInfo("America/Moncton")
    calendar = get_calendar(
        CalendarSpec(time_zone="America/Moncton", hours={5: ((23 * 60, 1440),), 6: ((0, 60),)})
    )
    assert calendar.open_intervals(date(2005, 10, 29)) == [
        (utc(2005, 10, 30, 2), utc(2005, 10, 30, 3)),
        (utc(2005, 10, 30, 3, 1), utc(2005, 10, 30, 4)),
    ]
    assert calendar.open_intervals(date(2005, 10, 30)) == [
        (utc(2005, 10, 30, 3), utc(2005, 10, 30, 3, 1)),
        (utc(2005, 10, 30, 4), utc(2005, 10, 30, 5)),
    ]
    start = datetime(2005, 10, 29, 22, tzinfo=moncton)
    assert calendar.seconds_between(start, utc(2005, 10, 30, 12)) == 3 * HOUR
    assert calendar.add(start, 3 * HOUR) == utc(2005, 10, 30, 5)
    assert calendar.add(start, 61 * 60) == utc(2005, 10, 30, 3, 1)
    assert calendar.add(utc(2005, 10, 30, 3, 0, 30), 60) == utc(2005, 10, 30, 3, 1, 30)


def test_whole_days_count_real_elapsed_time():
    every_day = get_calendar(
        CalendarSpec(time_zone="Europe/Berlin", hours=dict.fromkeys(range(7), ((0, 1440),)))
    )
    for day, hours in ((date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 7, 5), 24)):
        start = datetime(day.year, day.month, day.day, tzinfo=BERLIN)
        end = start + timedelta(days=1)  # wall-clock arithmetic: the next local midnight
        assert every_day.seconds_between(start, end) == hours * HOUR
        assert every_day.add(start, hours * HOUR) == end
    # and it behaves like 24x7 across the change
    start = berlin(2026, 3, 28, 12)
    assert every_day.add(start, 24 * HOUR) == berlin(2026, 3, 29, 13)


# ---------------------------------------------------------------------------------------
# 24x7
# ---------------------------------------------------------------------------------------


def test_twenty_four_seven_is_plain_arithmetic():
    calendar = get_calendar(TWENTY_FOUR_SEVEN)
    start = berlin(2026, 3, 28, 12)  # across spring-forward: real hours, not wall hours
    assert calendar.add(start, 24 * HOUR) == berlin(2026, 3, 29, 13)
    assert calendar.add(start, 24 * HOUR).tzinfo is UTC
    assert calendar.add(start, 0.000001) == start + MICRO
    end = datetime(2026, 4, 2, 8, tzinfo=NEW_YORK)
    assert calendar.seconds_between(start, end) == (end - start).total_seconds()
    assert calendar.seconds_between(end, start) == 0
    # same tzinfo on both ends: still real elapsed time (Python's `end - start` would say 24 h)
    assert calendar.seconds_between(start, berlin(2026, 3, 29, 12)) == 23 * HOUR
    assert calendar.is_open(berlin(2026, 12, 25, 3))
    assert calendar.next_open(start) == start


# ---------------------------------------------------------------------------------------
# The spec and the cache
# ---------------------------------------------------------------------------------------


def test_specs_are_normalized_hashable_and_calendars_cached():
    a = CalendarSpec(time_zone="Europe/Berlin", hours={0: [(540, 720), (780, 1020)], 1: []})
    b = CalendarSpec(time_zone="Europe/Berlin", hours={0: ((780, 1020), (540, 720))})
    assert a == b and hash(a) == hash(b)
    assert dict(a.hours) == {0: ((540, 720), (780, 1020))}
    assert get_calendar(a) is get_calendar(b)
    merged = CalendarSpec(time_zone="UTC", hours={2: ((540, 720), (700, 800), (800, 900))})
    assert merged.hours[2] == ((540, 900),)
    assert CalendarSpec(time_zone="UTC", closed_dates={date(2026, 1, 2)}).closed_dates == (
        frozenset({date(2026, 1, 2)})
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"time_zone": "Mars/Olympus_Mons"},
        {"time_zone": ""},
        {"time_zone": "UTC", "hours": {7: ((540, 1020),)}},
        {"time_zone": "UTC", "hours": {0: ((1020, 540),)}},
        {"time_zone": "UTC", "hours": {0: ((540, 540),)}},
        {"time_zone": "UTC", "hours": {0: ((540, 1500),)}},
        {"time_zone": "UTC", "hours": {0: ((-1, 60),)}},
        {"time_zone": "UTC", "hours": {0: (540, 1020)}},
        {"time_zone": "UTC", "hours": {0: ((9.5, 17),)}},
        {"time_zone": "UTC", "holiday_subdivision": "BY"},
        {"time_zone": "UTC", "closed_dates": frozenset({"2026-01-01"})},
    ],
)
def test_bad_specs(kwargs):
    with pytest.raises(ValueError):
        CalendarSpec(**kwargs)


@pytest.mark.parametrize(("country", "subdivision"), [("XX", ""), ("DE", "ZZ")])
def test_unknown_holiday_country_or_subdivision(country, subdivision):
    spec = CalendarSpec(
        time_zone="UTC",
        hours={0: ((0, 60),)},
        holiday_country=country,
        holiday_subdivision=subdivision,
    )
    with pytest.raises(ValueError):
        get_calendar(spec)


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [OFFICE_DE, TWENTY_FOUR_SEVEN])
def test_naive_datetimes_are_refused(spec):
    calendar = get_calendar(spec)
    naive = datetime(2026, 3, 9, 10)
    aware = berlin(2026, 3, 9, 10)
    with pytest.raises(ValueError, match="naive"):
        calendar.add(naive, 60)
    with pytest.raises(ValueError, match="naive"):
        calendar.add(naive, 0)
    with pytest.raises(ValueError, match="naive"):
        calendar.seconds_between(naive, aware)
    with pytest.raises(ValueError, match="naive"):
        calendar.seconds_between(aware, naive)
    with pytest.raises(ValueError, match="naive"):
        calendar.is_open(naive)
    with pytest.raises(ValueError, match="naive"):
        calendar.next_open(naive)


@pytest.mark.parametrize("seconds", [-1, -0.5, float("nan"), float("inf"), timedelta(seconds=-1)])
@pytest.mark.parametrize("spec", [OFFICE_DE, TWENTY_FOUR_SEVEN])
def test_negative_or_impossible_durations_are_refused(spec, seconds):
    with pytest.raises(ValueError):
        get_calendar(spec).add(berlin(2026, 3, 9, 10), seconds)


def test_calendar_without_hours_never_finishes():
    calendar = get_calendar(CalendarSpec(time_zone="Europe/Berlin"))
    start = berlin(2026, 3, 9, 10)
    with pytest.raises(ValueError, match="never open"):
        calendar.add(start, 1)
    with pytest.raises(ValueError, match="never open"):
        calendar.next_open(start)
    assert calendar.add(start, 0) == start
    assert calendar.seconds_between(start, start + timedelta(days=30)) == 0
    assert not calendar.is_open(start)


def test_calendar_whose_only_days_are_all_closed_gives_up():
    mondays = frozenset(date(2026, 1, 5) + timedelta(weeks=n) for n in range(52 * 12))
    calendar = get_calendar(
        CalendarSpec(time_zone="Europe/Berlin", hours={0: ((540, 1020),)}, closed_dates=mondays)
    )
    with pytest.raises(ValueError, match="gave up"):
        calendar.add(berlin(2026, 1, 1), 60)
    with pytest.raises(ValueError, match="gave up"):
        calendar.next_open(berlin(2026, 1, 1))


# ---------------------------------------------------------------------------------------
# Properties (hypothesis)
# ---------------------------------------------------------------------------------------

ZONES = [ZoneInfo(name) for name in ("Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata")]
CALENDARS = {
    "office DE": (OFFICE_DE, 8 * HOUR),
    "split BY": (SPLIT_BY, 7 * HOUR),
    "24x7": (TWENTY_FOUR_SEVEN, 24 * HOUR),
    "New York 08-20 daily": (NY_EVERY_DAY, 12 * HOUR),
    "Berlin nights": (NIGHTS_BERLIN, 7 * HOUR),
}
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# DST changes in Berlin and New York, 2025-2028 (UTC instants)
TRANSITIONS = [
    utc(2025, 10, 26, 1), utc(2026, 3, 29, 1), utc(2026, 10, 25, 1), utc(2027, 3, 28, 1),
    utc(2027, 10, 31, 1), utc(2028, 3, 26, 1),
    utc(2025, 11, 2, 6), utc(2026, 3, 8, 7), utc(2026, 11, 1, 6), utc(2027, 3, 14, 7),
    utc(2027, 11, 7, 6), utc(2028, 3, 12, 7),
]  # fmt: skip
any_moments = st.datetimes(
    min_value=datetime(2025, 6, 1),
    max_value=datetime(2028, 6, 1),
    timezones=st.sampled_from(ZONES),
)
near_dst_changes = st.builds(
    lambda change, offset, zone: (change + timedelta(microseconds=offset)).astimezone(zone),
    st.sampled_from(TRANSITIONS),
    st.integers(-6 * HOUR * 10**6, 6 * HOUR * 10**6),
    st.sampled_from(ZONES),
)
moments = st.one_of(any_moments, near_dst_changes)
calendar_names = st.sampled_from(sorted(CALENDARS))


@st.composite
def durations(draw, business_day):
    """0 to 30 business days, as whole seconds or as floats."""
    limit = 30 * business_day
    return draw(st.one_of(st.integers(0, limit), st.floats(0, limit), st.just(business_day)))


def wall_clock_is_open(spec, at):
    """Reference definition: the local clock shows a time in a period of an open day."""
    if spec.always_open:
        return True
    local = at.astimezone(ZoneInfo(spec.time_zone))
    day = local.date()
    if day in spec.closed_dates:
        return False
    if spec.holiday_country and day in holidays.country_holidays(
        spec.holiday_country, subdiv=spec.holiday_subdivision or None, years=day.year
    ):
        return False
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return any(start <= minute < end for start, end in spec.hours.get(local.weekday(), ()))


@PROPERTY_SETTINGS
@given(name=calendar_names, data=st.data(), start=moments)
def test_add_and_seconds_between_are_inverse(name, data, start):
    spec, business_day = CALENDARS[name]
    calendar = get_calendar(spec)
    seconds = data.draw(durations(business_day))
    due = calendar.add(start, seconds)
    assert due.tzinfo is UTC
    assert due >= start
    assert calendar.seconds_between(start, due) == pytest.approx(seconds, abs=1e-6)
    assert calendar.seconds_between(start, due) <= (due - start).total_seconds()
    if due > start:
        # the result is open or the end of an open interval, and it is the earliest one
        assert calendar.is_open(due) or calendar.seconds_between(due - MICRO, due) == 1e-6
        assert calendar.seconds_between(start, due - MICRO) < seconds
    if spec.always_open:
        assert due == utc_instant(start) + timedelta(seconds=seconds)


@PROPERTY_SETTINGS
@given(name=calendar_names, data=st.data(), start=moments)
def test_add_is_monotonic(name, data, start):
    spec, business_day = CALENDARS[name]
    calendar = get_calendar(spec)
    first = data.draw(durations(business_day))
    second = data.draw(durations(business_day))
    small, large = sorted((first, second))
    assert calendar.add(start, small) <= calendar.add(start, large)


@PROPERTY_SETTINGS
@given(name=calendar_names, a=moments, b=moments, c=moments)
def test_seconds_between_is_additive_and_bounded(name, a, b, c):
    spec, _ = CALENDARS[name]
    calendar = get_calendar(spec)
    a, b, c = sorted((a, b, c), key=utc_instant)
    ab = calendar.seconds_between(a, b)
    bc = calendar.seconds_between(b, c)
    ac = calendar.seconds_between(a, c)
    assert ac == pytest.approx(ab + bc, abs=1e-6)
    # (subtracting two datetimes with the same tzinfo compares wall clocks: use UTC)
    real = (utc_instant(c) - utc_instant(a)).total_seconds()
    assert 0 <= ac <= real
    assert calendar.seconds_between(c, a) == 0
    if spec.always_open:
        assert ac == real


@PROPERTY_SETTINGS
@given(name=calendar_names, at=moments)
def test_is_open_follows_the_wall_clock_and_next_open(name, at):
    spec, _ = CALENDARS[name]
    calendar = get_calendar(spec)
    assert calendar.is_open(at) == wall_clock_is_open(spec, at)
    nxt = calendar.next_open(at)
    assert calendar.is_open(nxt)
    assert nxt >= at
    assert calendar.seconds_between(at, nxt) == 0
    assert (nxt == utc_instant(at)) == calendar.is_open(at)


@PROPERTY_SETTINGS
@given(name=calendar_names, at=moments)
def test_open_intervals_match_the_wall_clock_definition(name, at):
    spec, _ = CALENDARS[name]
    calendar = get_calendar(spec)
    day = at.astimezone(ZoneInfo(spec.time_zone)).date()
    intervals = calendar.open_intervals(day)
    for start, end in intervals:
        assert start < end
        assert wall_clock_is_open(spec, start)
        assert wall_clock_is_open(spec, end - MICRO)
        for edge in (start - MICRO, end):
            assert calendar.is_open(edge) == wall_clock_is_open(spec, edge)
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert end < start  # sorted, disjoint, not touching (touching ones are merged)


@PROPERTY_SETTINGS
@given(
    name=calendar_names,
    data=st.data(),
    a=moments,
    running=st.integers(0, 20 * 86400),
    paused=st.integers(0, 20 * 86400),
)
def test_retargeting_after_a_pause_keeps_elapsed_time(name, data, a, running, paused):
    spec, business_day = CALENDARS[name]
    calendar = get_calendar(spec)
    b = utc_instant(a) + timedelta(seconds=running)  # paused at b
    c = b + timedelta(seconds=paused)  # resumed at c
    elapsed = calendar.seconds_between(a, b)
    seconds = elapsed + data.draw(durations(business_day))
    original_due = calendar.add(a, seconds)
    assume(b <= original_due)  # paused before the target was breached
    remaining = seconds - elapsed
    due = calendar.add(c, remaining)
    assert calendar.seconds_between(a, b) + calendar.seconds_between(c, due) == pytest.approx(
        seconds, abs=2e-6
    )
    assert due >= original_due  # a pause never brings the due time forward
    if original_due > b and calendar.seconds_between(b, c) == 0:
        # paused only while closed (and not at the due time itself): nothing changes
        assert due == original_due
