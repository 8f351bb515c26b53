"""Schedule windows: one-off and recurring occurrences (RRULE in the window's time zone,
02:00 staying 02:00 across daylight saving time), validation naming the field, and the
implementation check judged against the local occurrence."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from changes import conflicts, windows
from changes import services as change_services
from changes.models import ScheduleWindow
from tests.factories import ci

pytestmark = pytest.mark.django_db


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def sunday_berlin(**extra):
    """Weekly, Sunday 02:00-04:00 Europe/Berlin, from Sunday 1 March 2026 (winter time)."""
    values = {"kind": ScheduleWindow.Kind.MAINTENANCE, **extra}
    return ScheduleWindow.objects.create(
        name="Sunday patching",
        starts_at=utc(2026, 3, 1, 1),  # 02:00 CET
        ends_at=utc(2026, 3, 1, 3),  # 04:00 CET
        rrule="FREQ=WEEKLY;BYDAY=SU",
        time_zone="Europe/Berlin",
        **values,
    )


def test_a_one_off_window_has_one_occurrence_when_it_overlaps():
    window = ScheduleWindow.objects.create(
        name="Once", kind="blackout", starts_at=utc(2026, 5, 1, 10), ends_at=utc(2026, 5, 1, 12)
    )
    assert windows.occurrences(window, utc(2026, 5, 1), utc(2026, 5, 2))[0].start == utc(
        2026, 5, 1, 10
    )
    # Adjacent is not overlapping.
    assert windows.occurrences(window, utc(2026, 5, 1, 12), utc(2026, 5, 1, 13)) == []
    assert windows.occurrences(window, utc(2026, 5, 1, 9), utc(2026, 5, 1, 10)) == []


def test_recurring_window_stays_at_local_two_across_march_and_october():
    window = sunday_berlin()
    found = windows.occurrences(window, utc(2026, 3, 1), utc(2026, 11, 10))
    by_day = {o.start.date(): o for o in found}
    # Winter (CET, UTC+1): 02:00 local is 01:00 UTC.
    assert by_day[datetime(2026, 3, 22).date()].start == utc(2026, 3, 22, 1)
    # Summer (CEST, UTC+2) after the last Sunday of March: 02:00 local is 00:00 UTC.
    assert by_day[datetime(2026, 4, 5).date()].start == utc(2026, 4, 5, 0)
    assert by_day[datetime(2026, 4, 5).date()].end == utc(2026, 4, 5, 2)
    assert by_day[datetime(2026, 10, 18).date()].start == utc(2026, 10, 18, 0)
    # Back to winter after the last Sunday of October.
    assert by_day[datetime(2026, 11, 1).date()].start == utc(2026, 11, 1, 1)
    assert by_day[datetime(2026, 11, 8).date()].end == utc(2026, 11, 8, 3)
    # Every occurrence is Sunday 02:00 in Berlin.
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    assert all(o.start.astimezone(berlin).hour in (2, 3) for o in found)
    assert {o.start.astimezone(berlin).hour for o in found if o.start.month in (4, 10)} == {2}
    assert all(o.start.astimezone(berlin).weekday() == 6 for o in found)


def test_implementation_inside_or_outside_the_local_window_is_judged_right(
    make_change, normal_model
):
    """A change inside the summer occurrence (00:30-01:30 UTC = 02:30-03:30 CEST) is
    inside; the same UTC time in winter (01:30-02:30 CET) is too, but 00:30 UTC in winter
    (01:30 CET) starts before the window."""
    db = ci("db-01", "server")
    sunday_berlin().configuration_items.add(db)

    def kinds(start, end):
        change = make_change(planned_start=start, planned_end=end, configuration_items=[db])
        return {c.kind for c in change.conflicts.all()}

    assert "outside_maintenance" not in kinds(utc(2026, 4, 12, 0, 30), utc(2026, 4, 12, 1, 30))
    assert "outside_maintenance" not in kinds(utc(2026, 3, 15, 1, 30), utc(2026, 3, 15, 2, 30))
    assert "outside_maintenance" in kinds(utc(2026, 3, 15, 0, 30), utc(2026, 3, 15, 1, 30))
    # 03:00-04:30 CEST overruns the window's 04:00 end in summer.
    assert "outside_maintenance" in kinds(utc(2026, 10, 18, 1), utc(2026, 10, 18, 2, 30))
    # Back in winter, 02:00-04:00 CET is 01:00-03:00 UTC.
    assert "outside_maintenance" not in kinds(utc(2026, 11, 1, 1), utc(2026, 11, 1, 3))


def test_a_recurring_blackout_refuses_implementation_at_local_time(make_change, agent):
    """A weekly blackout Sunday 02:00-04:00 Berlin: at 00:30 UTC in summer (02:30 CEST)
    implementation is refused; at 00:30 UTC in winter (01:30 CET) it is not."""
    db = ci("db-01", "server")
    sunday_berlin(kind=ScheduleWindow.Kind.BLACKOUT).configuration_items.add(db)
    change = make_change(configuration_items=[db])
    assert "Sunday patching" in conflicts.implementation_refusal(change, utc(2026, 4, 12, 0, 30))
    assert conflicts.implementation_refusal(change, utc(2026, 3, 15, 0, 30)) is None
    assert conflicts.implementation_refusal(change, utc(2026, 3, 15, 1, 30)) is not None
    # Another CI is not in its scope.
    other = make_change(configuration_items=[ci("web-01")])
    assert conflicts.implementation_refusal(other, utc(2026, 4, 12, 0, 30)) is None
    assert change_services  # the services module raised these changes


def test_scope_by_ci_class_includes_subclasses_and_services(make_change, email_service):
    from cmdb.models import CIClass

    server = CIClass.objects.get(key="server")
    child = CIClass.objects.create(key="blade_server", name="Blade server", parent=server)
    blade = ci("blade-01", "blade_server")
    blackout = ScheduleWindow.objects.create(
        name="DC move",
        kind="blackout",
        starts_at=utc(2030, 1, 1),
        ends_at=utc(2030, 1, 2),
    )
    blackout.ci_classes.add(server)
    change = make_change(configuration_items=[blade])
    assert conflicts.blackout_at(change, utc(2030, 1, 1, 12)).window == blackout
    by_service = ScheduleWindow.objects.create(
        name="Mail freeze", kind="blackout", starts_at=utc(2031, 1, 1), ends_at=utc(2031, 1, 2)
    )
    by_service.services.add(email_service)
    mail_change = make_change(services=[email_service])
    assert conflicts.blackout_at(mail_change, utc(2031, 1, 1, 6)).window == by_service
    assert conflicts.blackout_at(change, utc(2031, 1, 1, 6)) is None
    assert child.parent == server


def test_an_unscoped_window_applies_to_everything(make_change):
    ScheduleWindow.objects.create(
        name="Year end", kind="blackout", starts_at=utc(2030, 12, 20), ends_at=utc(2031, 1, 3)
    )
    change = make_change(configuration_items=[ci("anything")])
    assert conflicts.blackout_at(change, utc(2030, 12, 24)).window.name == "Year end"
    assert conflicts.blackout_at(make_change(), utc(2030, 12, 24)) is not None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"rrule": "FREQ=FORTNIGHTLY"}, "rrule"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"ends_at": utc(2026, 1, 1)}, "ends_at"),
    ],
)
def test_clean_names_the_field(values, field):
    defaults = {"ends_at": utc(2026, 1, 1, 4), "time_zone": "Europe/Berlin"}
    window = ScheduleWindow(
        name="W", kind="maintenance", starts_at=utc(2026, 1, 1, 2), **{**defaults, **values}
    )
    with pytest.raises(ValidationError) as raised:
        window.clean()
    assert field in raised.value.message_dict


def test_a_valid_recurrence_passes_and_accepts_an_rrule_prefix():
    window = ScheduleWindow(
        name="W",
        kind="maintenance",
        starts_at=utc(2026, 1, 1, 2),
        ends_at=utc(2026, 1, 1, 4),
        rrule="RRULE:FREQ=MONTHLY;BYDAY=1SA;UNTIL=20261231T000000Z",
        time_zone="Europe/Berlin",
    )
    window.clean()
    found = windows.occurrences(window, utc(2026, 1, 1), utc(2027, 6, 1))
    assert len(found) == 12


def test_a_lifted_window_ends_when_lifted():
    window = ScheduleWindow.objects.create(
        name="Freeze",
        kind="blackout",
        starts_at=utc(2026, 1, 1),
        ends_at=utc(2026, 2, 1),
        lifted_at=utc(2026, 1, 5),
    )
    [occurrence] = windows.occurrences(window, utc(2026, 1, 1), utc(2026, 3, 1))
    assert occurrence.end == utc(2026, 1, 5)
    assert windows.occurrences(window, utc(2026, 1, 6), utc(2026, 3, 1)) == []
    assert timedelta(days=4) == occurrence.end - occurrence.start
