"""The change calendar (month, week, timeline) with windows, tasks and conflicts marked,
its filters and bounded queries; the iCalendar feed (token, content, escaping, folding,
a bad or rotated token)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changes import calendar as change_calendar
from changes import services as change_services
from changes.models import CalendarFeed, ScheduleWindow
from tests.factories import ci, page, web

pytestmark = pytest.mark.django_db


def utc(*args):
    return datetime(*args, tzinfo=UTC)


START = utc(2030, 6, 12, 2)


@pytest.fixture
def planned(make_change, agent, service_desk):
    db = ci("db-01", "server")
    first = make_change(
        title="Patch db, kernel; reboot",
        planned_start=START,
        planned_end=START + timedelta(hours=2),
        configuration_items=[db],
    )
    second = make_change(
        title="Resize db",
        planned_start=START + timedelta(hours=1),
        planned_end=START + timedelta(hours=3),
        configuration_items=[db],
    )
    task = change_services.open_task(
        agent,
        {
            "title": "Take the backup",
            "change": first,
            "assignment_group": service_desk,
            "planned_start": START - timedelta(hours=1),
            "planned_end": START,
        },
    )
    ScheduleWindow.objects.create(
        name="Sunday patching",
        kind="maintenance",
        starts_at=utc(2030, 6, 2, 0),
        ends_at=utc(2030, 6, 2, 2),
        rrule="FREQ=WEEKLY;BYDAY=SU",
        time_zone="Europe/Berlin",
    )
    ScheduleWindow.objects.create(
        name="Quarter close", kind="blackout", starts_at=utc(2030, 6, 28), ends_at=utc(2030, 7, 2)
    )
    return {"first": first, "second": second, "task": task, "db": db}


@pytest.mark.parametrize("view", ["month", "week", "timeline"])
def test_the_views_show_changes_tasks_windows_and_conflicts(planned, agent, view):
    html = page(web(agent).get(f"/changes/calendar/?view={view}&date=2030-06-12"))
    first, second, task = planned["first"], planned["second"], planned["task"]
    assert first.number in html and second.number in html and task.number in html
    assert "Sunday patching" in html
    assert "cal-conflict" in html
    if view == "month":
        assert "Quarter close" in html and "June 2030" in html
    if view == "timeline":
        assert "data-bar-left=" in html  # placed by app.js (no style attribute under the CSP)


def test_a_busy_day_of_the_week_says_how_many_more(planned, agent, monkeypatch):
    """A day lists a bounded number of items and counts the rest (a busy week is read
    through the filters: thousands of changes drawn in full made a 600 KB page)."""
    monkeypatch.setattr(change_calendar, "WEEK_CELL_LIMIT", 1)
    html = page(web(agent).get("/changes/calendar/?view=week&date=2030-06-12"))
    # 12 June: the task at 01:00 is shown; the two changes are counted.
    assert planned["task"].number in html and planned["second"].number not in html
    assert "+2 more: narrow by team, service, CI, model or risk." in html


def test_filters_narrow_the_changes(planned, agent, make_change):
    other = make_change(
        title="Elsewhere",
        planned_start=START,
        planned_end=START + timedelta(hours=1),
        configuration_items=[ci("web-01")],
    )
    client = web(agent)
    html = page(client.get(f"/changes/calendar/?date=2030-06-12&ci={planned['db'].pk}"))
    assert planned["first"].number in html and other.number not in html
    html = page(client.get("/changes/calendar/?date=2030-06-12&risk=high&view=week"))
    assert planned["first"].number not in html or "risk-high" in html
    response = client.get("/changes/calendar/?date=2030-13-45", HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "date:" in page(response)
    # htmx asks for the body only.
    body = page(client.get("/changes/calendar/?date=2030-06-12", HTTP_HX_REQUEST="true"))
    assert "<html" not in body and planned["first"].number in body


def test_who_may_see_the_calendar(agent, alice, client):
    assert web(alice).get("/changes/calendar/").status_code == 403
    assert client.get("/changes/calendar/").status_code == 302
    assert web(agent).get("/changes/calendar/").status_code == 200


@pytest.mark.parametrize("view", ["month", "week", "timeline"])
def test_queries_do_not_grow_with_the_changes(make_change, agent, view):
    client = web(agent)
    url = f"/changes/calendar/?view={view}&date=2030-06-12"

    def count():
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    make_change(title="One", planned_start=START, planned_end=START + timedelta(hours=1))
    few = count()
    for index in range(25):
        make_change(
            title=f"Many {index}",
            planned_start=START + timedelta(hours=index),
            planned_end=START + timedelta(hours=index + 2),
            configuration_items=[ci(f"ci-{index}")],
        )
    assert count() == few <= 16


class TestFeed:
    def test_a_token_is_shown_once_and_stored_only_as_a_hash(self, agent, planned):
        client = web(agent)
        html = page(client.get("/changes/calendar/feed/"))
        assert "no feed URL yet" in html
        html = page(client.post("/changes/calendar/feed/"))
        token = html.split("calendar.ics?token=")[1].split('"')[0]
        feed = CalendarFeed.objects.get(user=agent)
        assert feed.token_hash == change_calendar.token_hash(token) and token not in feed.token_hash
        assert token not in page(client.get("/changes/calendar/feed/"))

    def test_the_feed_with_a_valid_token(self, agent, planned, client, monkeypatch):
        token = change_calendar.rotate_feed(agent)
        # A window in range of "now" is needed: the feed covers 30 days back to 180 ahead.
        monkeypatch.setattr(change_calendar, "FEED_PAST", timedelta(days=365 * 10))
        monkeypatch.setattr(change_calendar, "FEED_FUTURE", timedelta(days=365 * 10))
        response = client.get(f"/changes/calendar.ics?token={token}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        body = response.content.decode()
        assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
        assert body.endswith("END:VCALENDAR\r\n")
        unfolded = body.replace("\r\n ", "")
        first = planned["first"]
        assert f"SUMMARY:{first.number} Patch db\\, kernel\\; reboot" in unfolded
        assert "DTSTART:20300612T020000Z" in unfolded
        assert "DTEND:20300612T040000Z" in unfolded
        assert "Conflicts: same ci" in unfolded
        assert "Sunday patching" in unfolded and "Quarter close" in unfolded
        assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
        assert CalendarFeed.objects.get(user=agent).last_used_at is not None

    def test_a_bad_or_rotated_token_is_a_404(self, agent, alice, client):
        old = change_calendar.rotate_feed(agent)
        new = change_calendar.rotate_feed(agent)
        assert client.get(f"/changes/calendar.ics?token={old}").status_code == 404
        assert client.get("/changes/calendar.ics?token=nonsense").status_code == 404
        assert client.get("/changes/calendar.ics").status_code == 404
        assert client.get(f"/changes/calendar.ics?token={new}").status_code == 200
        # Someone no longer staff: the feed stops.
        agent.role = "end_user"
        agent.save(update_fields=["role"])
        assert client.get(f"/changes/calendar.ics?token={new}").status_code == 404
        with pytest.raises(Exception) as raised:
            change_calendar.rotate_feed(alice)
        assert type(raised.value).__name__ == "PermissionDenied"


def test_escaping_and_folding():
    assert change_calendar.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "é" * 60
    folded = change_calendar.fold(line)
    parts = folded.split("\r\n ")
    assert all(len(p.encode()) <= 75 for p in parts[:1]) and all(
        len((" " + p).encode()) <= 75 for p in parts[1:]
    )
    assert "".join(parts) == line
    assert change_calendar.fold("SHORT:x") == "SHORT:x"
