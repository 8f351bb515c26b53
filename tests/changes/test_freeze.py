"""Freezes (change lockdowns during a major incident): matching changes not yet
implementing go on hold, journalled, and come off hold when it is lifted; implementation is
refused under a freeze that started after the change was scheduled; emergency changes get
through a blackout, journalled; the windows API's permissions and bad input."""

from datetime import timedelta

import pytest
from django.utils import timezone

from changes import conflicts
from changes import services as change_services
from changes.models import Change, ScheduleWindow
from itsm.core import schedule
from itsm.core.models import JournalEntry
from tests.factories import ci, incident, page, web

pytestmark = pytest.mark.django_db


def journal(change):
    return list(
        JournalEntry.objects.for_record(change)
        .order_by("created_at", "id")
        .values_list("body", flat=True)
    )


@pytest.fixture
def major(agent, alice, priority_matrix):
    found = incident(alice, agent, title="E-mail down for everyone")
    type(found).objects.filter(pk=found.pk).update(major=True)
    found.refresh_from_db()
    return found


def schedule_now(change, agent, start, end):
    """Move a standard change to scheduled with a planned window."""
    return change_services.update_change(
        change, agent, {"planned_start": start, "planned_end": end, "state": "scheduled"}
    )


@pytest.fixture
def standard_change(agent, standard_model, service_desk):
    def make(**data):
        values = {
            "title": "Restart the relay",
            "model": standard_model,
            "assignment_group": service_desk,
            **data,
        }
        return change_services.open_change(agent, values)

    return make


def test_freeze_holds_matching_changes_and_lift_releases_them(
    make_change, agent, change_manager, major, window
):
    db, web01 = ci("db-01", "server"), ci("web-01")
    on_db = make_change(configuration_items=[db], planned_start=window[0], planned_end=window[1])
    on_web = make_change(configuration_items=[web01])
    done = make_change(configuration_items=[db])
    Change.objects.filter(pk=done.pk).update(state="review")
    versions = {c.pk: c.version for c in (on_db, on_web)}

    freeze = conflicts.freeze(
        change_manager, name="Mail outage", incident=major, configuration_items=[db]
    )
    assert freeze.kind == "blackout" and freeze.incident == major
    on_db.refresh_from_db()
    on_web.refresh_from_db()
    done.refresh_from_db()
    assert on_db.on_hold and f"Mail outage ({major.number})" in on_db.hold_reason
    assert on_db.version == versions[on_db.pk] + 1
    assert not on_web.on_hold and not done.on_hold
    assert f"On hold: Freeze Mail outage ({major.number})." in journal(on_db)
    assert list(freeze.held_changes.all()) == [on_db]

    released = conflicts.lift(freeze, change_manager)
    on_db.refresh_from_db()
    assert released == [on_db.pk]
    assert not on_db.on_hold and on_db.hold_reason == ""
    assert "Off hold: freeze Mail outage lifted." in journal(on_db)
    freeze.refresh_from_db()
    assert freeze.lifted_at is not None
    with pytest.raises(Exception, match="already lifted"):
        conflicts.lift(freeze, change_manager)


def test_an_unscoped_freeze_holds_every_change_before_implementation(make_change, change_manager):
    changes = [make_change(title=f"C{i}") for i in range(5)]
    freeze = conflicts.freeze(change_manager, name="Everything")
    assert Change.objects.filter(on_hold=True).count() == 5
    # Two overlapping freezes: lifting one keeps the change held by the other.
    second = conflicts.freeze(change_manager, name="Second")
    assert second.held_changes.count() == 0  # already on hold
    conflicts.lift(freeze, change_manager)
    assert Change.objects.filter(on_hold=True).count() == 0
    assert len(changes) == 5


def test_only_change_managers_freeze(agent, make_change):
    make_change()
    with pytest.raises(Exception) as raised:
        conflicts.freeze(agent, name="Nope")
    assert type(raised.value).__name__ == "PermissionDenied"
    assert not ScheduleWindow.objects.exists()


def test_implementation_refused_under_a_freeze_that_started_after_scheduling(
    standard_change, agent, change_manager
):
    now = timezone.now()
    change = standard_change()
    schedule_now(change, agent, now - timedelta(minutes=5), now + timedelta(hours=1))
    change.refresh_from_db()
    assert change.state == "scheduled"
    freeze = conflicts.freeze(change_manager, name="Major outage")
    change.refresh_from_db()
    with pytest.raises(Exception) as raised:
        change_services.update_change(change, agent, {"state": "implement"})
    assert "on hold" in str(raised.value).lower() and "Major outage" in str(raised.value)
    conflicts.lift(freeze, change_manager)
    change.refresh_from_db()
    change_services.update_change(change, agent, {"state": "implement"})
    change.refresh_from_db()
    assert change.state == "implement"


def test_a_blackout_refuses_implementation_but_not_an_emergency(
    standard_change, make_change, emergency_model, agent
):
    now = timezone.now()
    db = ci("db-01", "server")
    blackout = ScheduleWindow.objects.create(
        name="Quarter close",
        kind="blackout",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=5),
    )
    blackout.configuration_items.add(db)
    change = standard_change(configuration_items=[db])
    schedule_now(change, agent, now, now + timedelta(hours=1))
    change.refresh_from_db()
    with pytest.raises(Exception, match="Quarter close is a blackout"):
        change_services.update_change(change, agent, {"state": "implement"})

    emergency = make_change(
        model=emergency_model,
        configuration_items=[db],
        planned_start=now,
        planned_end=now + timedelta(hours=1),
    )
    assert conflicts.implementation_refusal(emergency, now) is None
    Change.objects.filter(pk=emergency.pk).update(state="scheduled")
    emergency.refresh_from_db()
    change_services.update_change(emergency, agent, {"state": "implement"})
    emergency.refresh_from_db()
    assert emergency.state == "implement"
    warnings = [b for b in journal(emergency) if "Emergency change implemented during" in b]
    assert len(warnings) == 1 and "Quarter close" in warnings[0]


def test_freeze_from_the_major_incident_page(agent, change_manager, major, make_change):
    change = make_change()
    html = page(web(change_manager).get(f"/incidents/{major.number}/"))
    assert "Freeze changes" in html
    # An agent (not a change manager) sees the block without the button.
    assert "Freeze changes" not in page(web(agent).get(f"/incidents/{major.number}/"))
    response = web(change_manager).post(
        "/changes/calendar/freeze/",
        {
            "incident": major.number,
            "name": "Freeze for mail",
            "next": f"/incidents/{major.number}/",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/incidents/{major.number}/"
    change.refresh_from_db()
    assert change.on_hold
    window = ScheduleWindow.objects.get(incident=major)
    html = page(web(change_manager).get(f"/incidents/{major.number}/"))
    assert "Freeze for mail" in html and "Lift" in html
    assert web(agent).post(f"/changes/calendar/windows/{window.pk}/lift/").status_code == 403
    web(change_manager).post(f"/changes/calendar/windows/{window.pk}/lift/")
    change.refresh_from_db()
    assert not change.on_hold


class TestWindowsAPI:
    def test_freeze_and_lift_endpoints(self, api_as, change_manager, agent, major, make_change):
        change = make_change()
        client = api_as(change_manager)
        response = client.post(
            "/api/v1/change-windows/freeze/", {"incident": major.number}, format="json"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["incident"] == major.number and body["held_changes"] == [change.number]
        assert body["name"] == f"Freeze for {major.number}"
        assert api_as(agent).post(f"/api/v1/change-windows/{body['id']}/lift/").status_code == 403
        lifted = client.post(f"/api/v1/change-windows/{body['id']}/lift/")
        assert lifted.status_code == 200 and lifted.json()["lifted_at"]
        bad = client.post(
            "/api/v1/change-windows/freeze/", {"incident": "INC9999999"}, format="json"
        )
        assert bad.status_code == 400 and "incident" in bad.json()
        assert client.post("/api/v1/change-windows/freeze/", {}, format="json").status_code == 400

    def test_who_may_write_which_window(self, api_as, agent, change_manager, admin_user, alice):
        maintenance = {
            "name": "Sunday patching",
            "kind": "maintenance",
            "starts_at": "2030-03-03T01:00:00Z",
            "ends_at": "2030-03-03T03:00:00Z",
            "rrule": "FREQ=WEEKLY;BYDAY=SU",
            "time_zone": "Europe/Berlin",
        }
        blackout = {**maintenance, "name": "Close", "kind": "blackout", "rrule": ""}
        assert api_as(alice).get("/api/v1/change-windows/").status_code == 403
        assert api_as(agent).get("/api/v1/change-windows/").status_code == 200
        assert (
            api_as(agent).post("/api/v1/change-windows/", blackout, format="json").status_code
            == 403
        )
        assert (
            api_as(change_manager)
            .post("/api/v1/change-windows/", maintenance, format="json")
            .status_code
            == 403
        )
        assert not ScheduleWindow.objects.exists()
        made = api_as(change_manager).post("/api/v1/change-windows/", blackout, format="json")
        assert made.status_code == 201, made.content
        made = api_as(admin_user).post("/api/v1/change-windows/", maintenance, format="json")
        assert made.status_code == 201, made.content
        window_id = made.json()["id"]
        occurrences = (
            api_as(agent)
            .get(
                f"/api/v1/change-windows/{window_id}/occurrences/"
                "?start=2030-03-01T00:00:00Z&end=2030-04-08T00:00:00Z"
            )
            .json()
        )
        assert [o["start"][:16] for o in occurrences] == [
            "2030-03-03T01:00",
            "2030-03-10T01:00",
            "2030-03-17T01:00",
            "2030-03-24T01:00",
            # The night the clocks go forward 02:00 does not exist: 03:00 CEST to 04:00.
            "2030-03-31T01:00",
            "2030-04-07T00:00",  # summer time: still 02:00 in Berlin
        ]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
            ({"time_zone": "Nowhere/Land"}, "time_zone"),
            ({"ends_at": "2030-03-03T00:00:00Z"}, "ends_at"),
            ({"kind": "party"}, "kind"),
        ],
    )
    def test_bad_input_names_the_field(self, api_as, admin_user, change, field):
        data = {
            "name": "W",
            "kind": "maintenance",
            "starts_at": "2030-03-03T01:00:00Z",
            "ends_at": "2030-03-03T03:00:00Z",
            "time_zone": "Europe/Berlin",
            **change,
        }
        response = api_as(admin_user).post("/api/v1/change-windows/", data, format="json")
        assert response.status_code == 400 and field in response.json()
        assert not ScheduleWindow.objects.exists()


class TestKernelSchedule:
    def test_cis_under_change_for_other_practices(self, standard_change, agent):
        now = timezone.now()
        db, web01, idle = ci("db-01", "server"), ci("web-01"), ci("idle-01")
        change = standard_change(configuration_items=[db])
        schedule_now(change, agent, now - timedelta(minutes=10), now + timedelta(hours=1))
        nightly = ScheduleWindow.objects.create(
            name="Web maintenance",
            kind="maintenance",
            starts_at=now - timedelta(days=7, minutes=30),
            ends_at=now - timedelta(days=7) + timedelta(hours=1),
            rrule="FREQ=DAILY",
        )
        nightly.configuration_items.add(web01)
        found = schedule.under_change([db.pk, web01.pk, idle.pk])
        assert found[db.pk].startswith(f"{change.number} Restart the relay, until ")
        assert found[web01.pk] == "Maintenance window Web maintenance"
        assert idle.pk not in found
        assert schedule.is_under_change(idle.pk) is None
        # Off hold only: a held change does not count; an hour later nothing is.
        assert schedule.under_change([db.pk], now + timedelta(hours=2)) == {}
        assert "changes" in schedule.providers()
