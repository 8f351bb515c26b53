"""Conflict detection: the same CI, a CI one relationship away (parent or child, either
direction; two hops is not a conflict), adjacent windows, blackouts, maintenance windows,
the assignee booked; both sides see a conflict; the API and the scheduling assistant."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changes import conflicts
from changes import services as change_services
from changes.models import Change, ChangeTask, Conflict, ScheduleWindow
from cmdb.models import Relationship, RelationshipType
from tests.factories import ci, html_form, page, web

pytestmark = pytest.mark.django_db


def utc(*args):
    return datetime(*args, tzinfo=UTC)


T0 = utc(2030, 6, 4, 2)  # a Tuesday
T2 = T0 + timedelta(hours=2)


def relate(source, target, key="depends_on"):
    return Relationship.objects.create(
        source=source, target=target, type=RelationshipType.objects.get(key=key)
    )


def kinds(change):
    return sorted(
        (c.kind, c.other_change.number if c.other_change else None)
        for c in conflicts.current(Conflict.objects.filter(change=change))
    )


@pytest.fixture
def db01():
    return ci("db-01", "server")


def test_same_ci_overlapping_is_a_conflict_both_sides_see(make_change, db01):
    first = make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
    second = make_change(
        planned_start=T0 + timedelta(hours=1),
        planned_end=T2 + timedelta(hours=1),
        configuration_items=[db01],
    )
    assert kinds(second) == [("same_ci", first.number)]
    assert kinds(first) == [("same_ci", second.number)]
    [row] = second.conflicts.all()
    assert row.detail == f"{first.number} also changes db-01 (Tue 4 Jun 02:00\u201304:00 UTC)"
    assert row.configuration_item == db01


def test_adjacent_windows_do_not_conflict(make_change, db01):
    make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
    second = make_change(
        planned_start=T2, planned_end=T2 + timedelta(hours=1), configuration_items=[db01]
    )
    assert kinds(second) == []


def test_moving_the_window_clears_both_sides(make_change, agent, db01):
    first = make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
    second = make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
    assert kinds(first) and kinds(second)
    change_services.update_change(
        second,
        agent,
        {"planned_start": T2 + timedelta(days=1), "planned_end": T2 + timedelta(days=1, hours=1)},
    )
    assert kinds(first) == [] and kinds(second) == []


def test_a_cancelled_change_no_longer_conflicts(make_change, agent, db01):
    first = make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
    second = make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
    change_services.update_change(
        first, agent, {"state": "cancelled", "closure_notes": "Not needed."}
    )
    assert kinds(second) == []


def test_parent_child_and_two_hops(make_change):
    """app depends on db, db runs on host: a change to db conflicts with one to app (its
    parent) and one to host (its child); app and host are two hops apart."""
    app, db, host = ci("app-01"), ci("db-01", "server"), ci("host-01", "server")
    relate(app, db)
    relate(db, host, "runs_on")
    on_db = make_change(planned_start=T0, planned_end=T2, configuration_items=[db])
    on_app = make_change(planned_start=T0, planned_end=T2, configuration_items=[app])
    on_host = make_change(planned_start=T0, planned_end=T2, configuration_items=[host])
    assert kinds(on_db) == sorted([("related_ci", on_app.number), ("related_ci", on_host.number)])
    assert kinds(on_app) == [("related_ci", on_db.number)]
    assert kinds(on_host) == [("related_ci", on_db.number)]
    [row] = on_app.conflicts.all()
    assert row.configuration_item == app
    assert row.detail.startswith(f"{on_db.number} changes db-01, related to app-01 (")


def test_blackout_conflict_names_the_window_and_the_ci(make_change, db01):
    blackout = ScheduleWindow.objects.create(
        name="Quarter close", kind="blackout", starts_at=T0 - timedelta(days=1), ends_at=T2
    )
    blackout.configuration_items.add(db01)
    change = make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
    [row] = change.conflicts.all()
    assert (row.kind, row.window, row.configuration_item) == ("blackout", blackout, db01)
    assert "Quarter close" in row.detail and "db-01" in row.detail
    # After the blackout: none.
    later = make_change(
        planned_start=T2, planned_end=T2 + timedelta(hours=1), configuration_items=[db01]
    )
    assert later.conflicts.count() == 0


def test_outside_maintenance_only_when_the_ci_has_maintenance_windows(make_change, db01):
    web01 = ci("web-01")
    maintenance = ScheduleWindow.objects.create(
        name="Nightly",
        kind="maintenance",
        starts_at=utc(2030, 1, 1, 1),
        ends_at=utc(2030, 1, 1, 3),
        rrule="FREQ=DAILY",
    )
    maintenance.configuration_items.add(db01)
    inside = make_change(
        planned_start=utc(2030, 6, 4, 1), planned_end=utc(2030, 6, 4, 3), configuration_items=[db01]
    )
    outside = make_change(
        planned_start=utc(2030, 6, 5, 10),
        planned_end=utc(2030, 6, 5, 11),
        configuration_items=[db01, web01],
    )
    assert kinds(inside) == []
    [row] = outside.conflicts.filter(kind="outside_maintenance")
    assert row.configuration_item == db01 and row.window == maintenance
    assert "Nightly" in row.detail


def test_assignee_booked_on_another_change_or_task(make_change, agent, service_desk):
    first = make_change(planned_start=T0, planned_end=T2, assigned_to=agent)
    second = make_change(
        planned_start=T0 + timedelta(minutes=30), planned_end=T2, assigned_to=agent
    )
    assert kinds(second) == [("assignee_booked", first.number)]
    assert kinds(first) == [("assignee_booked", second.number)]
    # A task of another change, assigned to the same person, overlapping.
    other = make_change(title="Other")
    task = change_services.open_task(
        agent,
        {
            "title": "Swap the disks",
            "change": other,
            "assignment_group": service_desk,
            "assigned_to": agent,
            "planned_start": T2 - timedelta(minutes=10),
            "planned_end": T2 + timedelta(hours=1),
        },
    )
    third = make_change(
        planned_start=T2 - timedelta(minutes=5),
        planned_end=T2 + timedelta(hours=3),
        assigned_to=agent,
    )
    details = [c.detail for c in third.conflicts.all()]
    assert any(task.number in d and other.number in d for d in details)
    assert ChangeTask.objects.count() == 1


def test_detection_queries_do_not_grow_with_the_cis(make_change, agent):
    few = [ci(f"few-{i}") for i in range(3)]
    many = [ci(f"many-{i}") for i in range(30)]
    for a, b in pairwise(many):
        relate(a, b)
    for index, item in enumerate(many[::3]):
        make_change(
            title=f"Busy {index}", planned_start=T0, planned_end=T2, configuration_items=[item]
        )
    make_change(title="Busy", planned_start=T0, planned_end=T2, configuration_items=few[:1])
    small = make_change(planned_start=T0, planned_end=T2, configuration_items=few)
    big = make_change(planned_start=T0, planned_end=T2, configuration_items=many)
    counts = []
    for change in (small, big):
        change = Change.objects.select_related("model", "assigned_to").get(pk=change.pk)
        with CaptureQueriesContext(connection) as captured:
            conflicts.detect(change)
        counts.append(len(captured))
    assert counts[0] == counts[1] <= 16
    assert Conflict.objects.filter(change=big, kind="same_ci").count() == 10


def test_the_change_page_shows_conflicts_and_slots(make_change, agent, db01):
    first = make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
    second = make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
    client = web(agent)
    html = page(client.get(f"/changes/{second.number}/"))
    assert f"{first.number} also changes db-01" in html
    assert f'href="/changes/{first.number}/"' in html
    fragment = page(client.get(f"/changes/{second.number}/slots/"))
    assert "Use this slot" in fragment
    data = html_form(fragment, f"/changes/{second.number}/edit/")
    response = client.post(f"/changes/{second.number}/edit/", data)
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.planned_start != T0
    assert kinds(second) == []


class TestAssistant:
    def test_slots_avoid_blackouts_and_busy_cis_inside_maintenance(self, make_change, db01):
        app = ci("app-01")
        relate(app, db01)
        nightly = ScheduleWindow.objects.create(
            name="Nightly",
            kind="maintenance",
            starts_at=utc(2030, 1, 1, 1),
            ends_at=utc(2030, 1, 1, 5),
            rrule="FREQ=DAILY",
        )
        nightly.configuration_items.add(db01)
        blackout = ScheduleWindow.objects.create(
            name="Close", kind="blackout", starts_at=utc(2030, 6, 2), ends_at=utc(2030, 6, 3)
        )
        blackout.configuration_items.add(db01)
        # The related app is busy 01:00-03:00 on 3 June.
        make_change(
            planned_start=utc(2030, 6, 3, 1),
            planned_end=utc(2030, 6, 3, 3),
            configuration_items=[app],
        )
        change = make_change(configuration_items=[db01])
        slots = conflicts.next_free_slots(
            change, timedelta(hours=2), count=3, after=utc(2030, 6, 1, 12)
        )
        # 2 June is blacked out; on 3 June 03:00-05:00 is free; then 4 June 01:00.
        assert [(s.start, s.end) for s in slots] == [
            (utc(2030, 6, 3, 3), utc(2030, 6, 3, 5)),
            (utc(2030, 6, 4, 1), utc(2030, 6, 4, 3)),
            (utc(2030, 6, 4, 3), utc(2030, 6, 4, 5)),
        ]
        assert slots[0].window == "Nightly"

    def test_slots_without_maintenance_are_on_the_half_hour(self, make_change, db01):
        make_change(
            planned_start=utc(2030, 6, 1, 12),
            planned_end=utc(2030, 6, 1, 13),
            configuration_items=[db01],
        )
        change = make_change(configuration_items=[db01])
        slots = conflicts.next_free_slots(
            change, timedelta(minutes=45), count=2, after=utc(2030, 6, 1, 11, 50)
        )
        assert [s.start for s in slots] == [utc(2030, 6, 1, 13), utc(2030, 6, 1, 14)]

    def test_api_slots(self, make_change, api_as, agent, alice, db01):
        change = make_change(planned_start=T0, planned_end=T2, configuration_items=[db01])
        response = api_as(agent).get(f"/api/v1/changes/{change.number}/slots/?count=2")
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body) == 2
        first = datetime.fromisoformat(body[0]["end"]) - datetime.fromisoformat(body[0]["start"])
        assert first == timedelta(hours=2)
        bad = api_as(agent).get(f"/api/v1/changes/{change.number}/slots/?duration=abc")
        assert bad.status_code == 400 and "duration" in bad.json()
        assert api_as(alice).get(f"/api/v1/changes/{change.number}/slots/").status_code == 403


class TestConflictsAPI:
    def test_filter_by_change_and_kind(self, make_change, api_as, agent, alice, db01):
        first = make_change(
            planned_start=T0, planned_end=T2, configuration_items=[db01], assigned_to=agent
        )
        second = make_change(
            planned_start=T0, planned_end=T2, configuration_items=[db01], assigned_to=agent
        )
        client = api_as(agent)
        body = client.get(f"/api/v1/change-conflicts/?change={second.number}").json()
        rows = body["results"] if isinstance(body, dict) else body
        assert {(r["kind"], r["other_change"]) for r in rows} == {
            ("same_ci", first.number),
            ("assignee_booked", first.number),
        }
        body = client.get(f"/api/v1/change-conflicts/?change={second.number}&kind=same_ci").json()
        rows = body["results"] if isinstance(body, dict) else body
        assert [r["configuration_item_name"] for r in rows] == ["db-01"]
        assert client.get("/api/v1/change-conflicts/?kind=nonsense").status_code == 400
        assert api_as(alice).get("/api/v1/change-conflicts/").status_code == 403
        assert client.post("/api/v1/change-conflicts/", {}).status_code == 405
