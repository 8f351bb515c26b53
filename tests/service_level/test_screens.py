"""SLA badges as an agent sees them on the queue and the incident page (and the caller on the
portal), the "breaching soon" and "breached" filters, and fixed query counts with timers."""

import html
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incidents import services as incidents
from itsm.core.practices import registry as record_panels
from practices.service_level import services
from practices.service_level.models import Timer
from tests import factories
from tests.factories import page, web
from tests.incidents.test_views import count_queries, listing
from tests.service_level.conftest import agreement
from tests.service_level.test_timers import shift

pytestmark = pytest.mark.django_db

BADGE = re.compile(r'<span class="badge sla ([^"]*)"([^>]*)>([^<]*)</span>')


def badges(body: str, number: str | None = None) -> list[tuple[str, str, dict]]:
    """(css classes, text, data attributes) of the SLA badges, of one queue row if given."""
    if number is not None:
        row = re.search(rf'<tr[^>]*data-href="/incidents/{number}/".*?</tr>', body, re.DOTALL)
        assert row, f"{number} is not in the list"
        body = row.group(0)
    found = []
    for css, attributes, text in BADGE.findall(body):
        data = dict(re.findall(r'data-sla-(\w+)="([^"]*)"', attributes))
        found.append((css, html.unescape(text), data))
    return found


def only(body, number=None):
    found = badges(body, number)
    assert len(found) == 1, found
    return found[0]


def timer_of_agreement(incident, name: str) -> Timer:
    return Timer.objects.exclude(state="cancelled").get(object_id=incident.pk, agreement__name=name)


def timer_of(incident, metric="resolution") -> Timer:
    return Timer.objects.exclude(state="cancelled").get(object_id=incident.pk, metric=metric)


@pytest.fixture
def resolve_only(always):
    """Resolve within 4 hours around the clock, no response target (one badge a row)."""
    return agreement("Resolve only", always, resolution=timedelta(hours=4))


@pytest.fixture
def logged(resolve_only, alice, agent, service_desk):
    def make(title="Mail down", **fields):
        fields.setdefault("assignment_group", service_desk)
        return factories.incident(alice, actor=agent, title=title, **fields)

    return make


def used(incident, hours):
    """Pretend the incident's resolution clock has run ``hours`` already."""
    shift(timer_of(incident), hours=hours)


class TestBadges:
    def test_a_fresh_target_is_green_and_counts_down(self, logged, agent):
        incident = logged()
        css, text, data = only(page(web(agent).get("/incidents/?view=all")), incident.number)
        assert css == "sla-ok"
        assert re.fullmatch(r"SLA Resolve 3h 5\dm", text), text
        due = parse_datetime(data["due"])
        assert due == timer_of(incident).due_at
        # The browser turns it amber and red at half and a quarter of the target left.
        close = timedelta(milliseconds=1)
        assert abs(parse_datetime(data["warn"]) - (due - timedelta(hours=2))) < close
        assert abs(parse_datetime(data["danger"]) - (due - timedelta(hours=1))) < close
        assert data["label"] == "SLA Resolve"

    @pytest.mark.parametrize(
        ("hours", "css", "pattern"),
        [
            (1.5, "sla-ok", r"SLA Resolve 2h (29|30)m"),
            (2.5, "sla-warn", r"SLA Resolve 1h (29|30)m"),
            (3.5, "sla-danger", r"SLA Resolve (29|30)m \d\ds"),
            (5, "sla-overdue", r"SLA Resolve overdue 1h 00m"),
        ],
    )
    def test_colour_by_the_share_of_the_target_left(self, logged, agent, hours, css, pattern):
        incident = logged()
        used(incident, hours)
        found_css, text, data = only(page(web(agent).get("/incidents/?view=all")), incident.number)
        assert found_css == css
        assert re.fullmatch(pattern, text), text
        # Marks already passed are not sent: the browser keeps the colour it has.
        assert ("warn" in data) == (css == "sla-ok")
        assert ("danger" in data) == (css in ("sla-ok", "sla-warn"))

    def test_a_breach_the_sweep_recorded_is_dark_red_and_counts_up(self, logged, agent):
        incident = logged()
        used(incident, 5)
        services.sweep()
        assert timer_of(incident).state == "breached"
        css, text, data = only(page(web(agent).get("/incidents/?view=all")), incident.number)
        assert css == "sla-overdue"
        assert text == "SLA Resolve overdue 1h 00m"
        assert "due" in data  # the browser keeps counting the overrun

    def test_paused_shows_the_business_time_left(self, logged, agent):
        incident = logged()
        used(incident, 1)
        incidents.update_incident(
            incident, agent, {"state": "on_hold", "on_hold_reason": "awaiting_caller"}
        )
        css, text, data = only(page(web(agent).get("/incidents/?view=all")), incident.number)
        assert css == "sla-paused"
        assert re.fullmatch(r"SLA Resolve paused · (2h 59m|3h 00m) working time left", text)
        assert data == {}  # no countdown while the clock stands still

    def test_met_is_a_check_mark(self, logged, agent):
        incident = logged()
        factories.resolve(incident, agent)
        assert timer_of(incident).state == "met"
        css, text, data = only(page(web(agent).get("/incidents/?view=all")), incident.number)
        assert (css, text, data) == ("sla-met", "✓ SLA Resolve", {})

    def test_breached_and_stopped_shows_the_time_over_target(self, logged, agent):
        incident = logged()
        used(incident, 5.5)
        factories.resolve(incident, agent)
        assert timer_of(incident).state == "breached"
        css, text, data = only(page(web(agent).get("/incidents/?view=all")), incident.number)
        assert (css, data) == ("sla-breached", {})
        assert re.fullmatch(r"✗ SLA Resolve over 1h (29|30)m", text), text

    def test_no_agreement_no_badge(self, agent, alice):
        incident = factories.incident(alice, actor=agent)
        assert badges(page(web(agent).get("/incidents/?view=all")), incident.number) == []

    def test_a_row_shows_its_most_urgent_target_and_counts_the_others(
        self, standard_sla, agent, alice
    ):
        incident = factories.incident(alice, actor=agent)
        incidents.comment(incident, agent, "On it.")
        body = page(web(agent).get("/incidents/?view=all"))
        found = badges(body, incident.number)
        # One line a row: the running resolution target, not the response already met.
        assert [(css, text[:13]) for css, text, _ in found] == [("sla-ok", "SLA Resolve 3")]
        row = re.search(rf'<tr[^>]*data-href="/incidents/{incident.number}/".*?</tr>', body, re.S)
        more = re.search(r'<span class="badge sla-more" title="([^"]*)">\+1</span>', row.group(0))
        assert more, "the met response target is counted beside it"
        assert "✓ SLA Respond" in html.unescape(more.group(1))

    def test_an_overdue_target_comes_before_a_running_one(
        self, standard_sla, always, agent, alice, service_desk
    ):
        agreement("Desk OLA", always, resolution=timedelta(hours=1), kind="ola", team=service_desk)
        incident = factories.incident(alice, actor=agent, assignment_group=service_desk)
        shift(timer_of_agreement(incident, "Desk OLA"), hours=2)
        css, text, _ = only(page(web(agent).get("/incidents/?view=all")), incident.number)
        assert (css, text) == ("sla-overdue", "OLA Resolve overdue 1h 00m")

    def test_cancelled_timers_do_not_show(self, logged, agent):
        incident = logged()
        incidents.update_incident(incident, agent, {"state": "cancelled"})
        assert badges(page(web(agent).get("/incidents/?view=all")), incident.number) == []

    def test_htmx_rows_carry_the_badges(self, logged, agent):
        incident = logged()
        body = page(web(agent).get("/incidents/", headers={"HX-Request": "true"}))
        assert only(body, incident.number)[0] == "sla-ok"
        assert "<th>SLA</th>" in body


class TestIncidentPage:
    def test_badge_and_panel(self, logged, agent):
        incident = logged()
        used(incident, 2.5)
        body = page(web(agent).get(f"/incidents/{incident.number}/"))
        found = badges(body)
        assert len(found) == 2  # in the header and in the "Service levels" panel
        assert {css for css, _, _ in found} == {"sla-warn"}
        assert "Service levels" in body
        assert "Resolve in 4:00:00" in body  # the target's name
        assert "due " in body

    def test_breach_reason_is_shown_in_the_panel(self, logged, agent):
        incident = logged()
        used(incident, 5)
        factories.resolve(incident, agent)
        Timer.objects.filter(object_id=incident.pk).update(breach_reason="Supplier part late")
        body = page(web(agent).get(f"/incidents/{incident.number}/"))
        assert "Reason: Supplier part late" in body
        assert "breached, stopped" in body

    def test_scripts_and_styles_are_included(self, logged, agent):
        body = page(web(agent).get(f"/incidents/{logged().number}/"))
        assert "/static/js/sla.js" in body
        assert "/static/css/sla.css" in body

    def test_the_error_page_after_a_bad_edit_still_shows_badges(self, logged, agent):
        incident = logged()
        response = web(agent).post(
            f"/incidents/{incident.number}/edit/", {"title": "", "version": incident.version}
        )
        assert response.status_code == 400
        assert {css for css, _, _ in badges(page(response))} == {"sla-ok"}


class TestPortal:
    def test_the_caller_sees_when_we_aim_to_resolve(self, logged, alice):
        incident = logged()
        body = page(web(alice).get(f"/portal/issues/{incident.number}/"))
        assert "We aim to resolve this by" in body
        assert only(body)[0] == "sla-ok"

    def test_the_caller_sees_no_operational_targets(self, always, alice, agent, service_desk):
        agreement(
            "Desk OLA",
            always,
            resolution=timedelta(hours=2),
            kind="ola",
            team=service_desk,
        )
        incident = factories.incident(alice, actor=agent, assignment_group=service_desk)
        assert Timer.objects.filter(object_id=incident.pk).exists()
        body = page(web(alice).get(f"/portal/issues/{incident.number}/"))
        assert "We aim to resolve" not in body
        assert badges(body) == []

    def test_paused_is_explained(self, logged, alice, agent):
        incident = logged()
        incidents.update_incident(
            incident, agent, {"state": "on_hold", "on_hold_reason": "awaiting_caller"}
        )
        body = page(web(alice).get(f"/portal/issues/{incident.number}/"))
        assert "paused while we wait for a reply" in body


class TestFilters:
    @pytest.fixture
    def spread(self, logged, agent):
        made = {
            "fresh": logged("Fresh"),
            "soon": logged("Soon"),
            "overdue": logged("Overdue"),
            "swept": logged("Swept"),
            "late": logged("Resolved late"),
            "paused": logged("Paused"),
            "in_time": logged("Resolved in time"),
        }
        used(made["soon"], 3.25)
        used(made["overdue"], 4.5)
        used(made["swept"], 6)
        used(made["late"], 5)
        used(made["paused"], 3.5)
        services.sweep()  # "swept" (and "late", "overdue") are recorded as breached
        factories.resolve(made["late"], agent)
        factories.resolve(made["in_time"], agent)
        incidents.update_incident(
            made["paused"], agent, {"state": "on_hold", "on_hold_reason": "awaiting_caller"}
        )
        return made

    def titles(self, agent, query):
        body = page(web(agent).get(f"/incidents/?{query}"))
        numbers = re.findall(r'<td class="num"><a href="/incidents/(INC\d+)/">', body)
        from incidents.models import Incident

        return set(Incident.objects.filter(number__in=numbers).values_list("title", flat=True))

    def test_breaching_soon(self, spread, agent):
        Timer.objects.filter(object_id=spread["overdue"].pk).update(
            state="running", breached=False, breached_at=None
        )  # due but not swept yet
        assert self.titles(agent, "sla=breaching_soon") == {"Soon", "Overdue"}

    def test_breached(self, spread, agent):
        assert self.titles(agent, "sla=breached") == {"Overdue", "Swept", "Resolved late"}

    def test_breaching_soon_saved_view(self, spread, agent):
        body = page(web(agent).get("/incidents/?view=all"))
        assert (
            '<a role="tab" href="/incidents/?view=breaching_soon" aria-selected="false">Breaching soon</a>'
            in body
        )
        assert self.titles(agent, "view=breaching_soon") == {"Soon"}
        body = page(web(agent).get("/incidents/?view=breaching_soon"))
        assert 'class="active" aria-selected="true">Breaching soon</a>' in body

    def test_combines_with_other_filters(self, spread, agent):
        assert self.titles(agent, "sla=breached&open=true") == {"Overdue", "Swept"}

    def test_a_bad_value_is_an_error_not_everything(self, spread, agent):
        body = page(web(agent).get("/incidents/?sla=someday"))
        assert "sla: Select a valid choice." in body
        assert self.titles(agent, "sla=someday") == set()

    def test_the_api_filters_alike(self, spread, agent, api_as):
        response = api_as(agent).get("/api/v1/incidents/?sla=breaching_soon")
        assert response.status_code == 200
        payload = response.json()
        results = payload["results"] if isinstance(payload, dict) else payload
        assert {r["title"] for r in results} == {"Soon"}

    def test_nav_has_the_saved_view(self, agent):
        assert "?view=breaching_soon" in page(web(agent).get("/incidents/?view=all"))


class TestQueryCounts:
    # 6, and one query each for the queue's team and person filter pickers
    QUEUE_BOUND = 8
    # The incident page itself, plus what other practices' panels may spend on it (their
    # declared budgets: problems and known errors, articles…).
    DETAIL_BOUND = 16 + record_panels.panel_queries("incidents.incident", "workspace")

    def make(self, count, logged, agent):
        for i in range(count):
            made = logged(f"Load {i}", impact=[1, 2, 3][i % 3], urgency=[1, 2, 3][i % 3])
            if i % 4 == 1:
                factories.resolve(made, agent)
            elif i % 4 == 2:
                incidents.update_incident(
                    made, agent, {"state": "on_hold", "on_hold_reason": "awaiting_caller"}
                )
            elif i % 4 == 3:
                used(made, 5)

    @pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
    def test_queue_is_constant(self, logged, agent, office, priority_matrix, headers):
        agreement("Office hours", office, resolution=timedelta(hours=8), priorities="1", order=10)
        client = web(agent)
        self.make(3, logged, agent)
        client.get(
            "/incidents/?view=all", headers=headers
        )  # warm caches (calendars, content types)
        few, _ = count_queries(client, "/incidents/?view=all", **headers)
        self.make(27, logged, agent)
        services.sweep()
        many, captured = count_queries(client, "/incidents/?view=all", **headers)
        assert len(badges(page(client.get("/incidents/?view=all")))) == 30
        assert many == few, f"{few} queries for 3, {many} for 30:\n{listing(captured)}"
        assert many <= self.QUEUE_BOUND, listing(captured)

    def test_incident_page_is_constant(self, standard_sla, critical_sla, alice, agent, office):
        agreement("Desk OLA", office, resolution=timedelta(hours=8), kind="ola", order=5, team=None)
        client = web(agent)
        plain = factories.incident(alice, actor=agent, title="Plain")
        busy = factories.incident(alice, actor=agent, title="Busy", impact=1, urgency=1)
        incidents.comment(busy, agent, "Looking")
        shift(
            Timer.objects.get(object_id=busy.pk, agreement__kind="sla", metric="resolution"),
            hours=0.5,
        )
        client.get(f"/incidents/{plain.number}/")  # warm caches
        counts = {}
        for incident in (plain, busy):
            counts[incident.title], captured = count_queries(
                client, f"/incidents/{incident.number}/"
            )
            assert counts[incident.title] <= self.DETAIL_BOUND, listing(captured)
        assert counts["Plain"] == counts["Busy"], counts


def test_badge_text_matches_the_script(logged, agent):
    """The server and sla.js write a countdown the same way."""
    from practices.service_level.templatetags.sla import countdown

    assert [countdown(s) for s in (5, 65, 3600 + 5 * 60, 86400 * 2 + 3 * 3600 + 59)] == [
        "0m 05s",
        "1m 05s",
        "1h 05m",
        "2d 3h",
    ]
    script = (settings.BASE_DIR / "static" / "js" / "sla.js").read_text()
    assert 'days + "d " + hours + "h"' in script
    assert 'hours + "h " + pad(minutes) + "m"' in script


def test_badges_need_no_script_to_be_right(logged, agent):
    """What the page says at load time is the truth as of now (no "loading…")."""
    incident = logged()
    used(incident, 1)
    _, text, data = only(page(web(agent).get("/incidents/?view=all")), incident.number)
    due = parse_datetime(data["due"])
    left = (due - timezone.now()).total_seconds()
    assert text.startswith(f"SLA Resolve {int(left // 3600)}h")
