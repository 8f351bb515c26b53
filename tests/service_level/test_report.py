"""The SLA compliance report as an agent sees it: the figures of a known set of timers, each
grouping, the trend chart, the CSV, the breaches with their reasons, who may see it, and a
fixed number of queries however many timers there are."""

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from itsm.core.models import JournalEntry
from practices.service_level.models import Agreement, Timer
from tests import factories
from tests.factories import html_form, page, web
from tests.incidents.test_views import count_queries, listing
from tests.service_level.conftest import agreement

pytestmark = pytest.mark.django_db

PERIOD = "period=custom&date_from=2025-03-03&date_to=2025-03-16"
HOUR = 3600


def at(day, hour=10):
    return datetime(2025, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def agreements(always):
    critical = agreement(
        "Critical", always, resolution=timedelta(hours=1), priorities="1,2", order=10
    )
    standard = agreement("Standard", always, resolution=timedelta(hours=4), order=100)
    return {"critical": critical, "standard": standard}


def stop(incident, *, day, elapsed_hours, team=None, service=None, hour=10):
    """The incident's resolution timer, as if it stopped on ``day`` in March 2025 after
    ``elapsed_hours`` of business time (breached when over its target)."""
    timer = Timer.objects.get(object_id=incident.pk, metric="resolution")
    target = timer.target.duration.total_seconds()
    elapsed = elapsed_hours * HOUR
    breached = elapsed > target
    stopped = at(day, hour)
    Timer.objects.filter(pk=timer.pk).update(
        started_at=stopped - timedelta(hours=elapsed_hours),
        due_at=stopped - timedelta(hours=elapsed_hours) + timedelta(seconds=target),
        stopped_at=stopped,
        business_elapsed=elapsed,
        breached=breached,
        breached_at=stopped - timedelta(seconds=elapsed - target) if breached else None,
        state="breached" if breached else "met",
        team=team,
        service=service,
    )
    return Timer.objects.get(pk=timer.pk)


@pytest.fixture
def known(agreements, alice, agent, service_desk, network_team, email_service, priority_matrix):
    """Five resolution targets stopped in weeks 10 and 11 of 2025, and three that do not
    count (outside the period, cancelled, still running).

    ====  ========  ===  =======  =======  ========  ========================
    name  SLA       pri  team     service  stopped   elapsed / target
    ====  ========  ===  =======  =======  ========  ========================
    a     Standard  P3   Desk     E-mail   Mar 4     2h / 4h met
    b     Standard  P3   Desk     —        Mar 5     3h / 4h met
    c     Standard  P4   Network  E-mail   Mar 11    6h / 4h breached, 2h over
    d     Critical  P1   Desk     —        Mar 12    1.5h / 1h breached, 30m over
    e     Critical  P2   Network  —        Mar 13    0.5h / 1h met
    ====  ========  ===  =======  =======  ========  ========================
    """

    def make(name, impact, urgency):
        made = factories.incident(
            alice, actor=agent, title=f"Case {name}", impact=impact, urgency=urgency
        )
        return factories.resolve(made, agent)

    made = {
        "a": make("a", 2, 2),
        "b": make("b", 2, 2),
        "c": make("c", 2, 3),
        "d": make("d", 1, 1),
        "e": make("e", 1, 2),
        "old": make("old", 2, 2),
        "cancelled": make("cancelled", 2, 2),
    }
    made["running"] = factories.incident(alice, actor=agent, title="Case running")
    timers = {
        "a": stop(made["a"], day=4, elapsed_hours=2, team=service_desk, service=email_service),
        "b": stop(made["b"], day=5, elapsed_hours=3, team=service_desk),
        "c": stop(made["c"], day=11, elapsed_hours=6, team=network_team, service=email_service),
        "d": stop(made["d"], day=12, elapsed_hours=1.5, team=service_desk),
        "e": stop(made["e"], day=13, elapsed_hours=0.5, team=network_team),
        "old": stop(made["old"], day=1, elapsed_hours=9),  # 1 March: before the period
        "cancelled": stop(made["cancelled"], day=6, elapsed_hours=7),
    }
    Timer.objects.filter(pk=timers["cancelled"].pk).update(state="cancelled")
    assert {t.priority for k, t in timers.items() if k in "abcde"} == {1, 2, 3, 4}
    return {"incidents": made, "timers": timers}


def table(body: str, css: str) -> list[list[str]]:
    """The rows of the table with this class: cell texts, body and foot."""
    found = re.search(rf'<table class="grid {css}">(.*?)</table>', body, re.DOTALL)
    assert found, f"no table {css}"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.DOTALL)[1:]:
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.DOTALL)
        rows.append([" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows


def report(client, query=""):
    response = client.get(f"/service-levels/?{PERIOD}&{query}")
    assert response.status_code == 200, page(response)
    return page(response)


def kpis(body: str) -> dict[str, str]:
    return {
        label: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", value)).split())
        for value, label in re.findall(
            r'<span class="value">(.*?)</span><span class="label">(.*?)</span>',
            body.replace("\n    ", ""),
            re.DOTALL,
        )
    }


class TestFigures:
    def test_summary_with_the_business_impact(self, known, agent):
        body = report(web(agent))
        assert "Targets stopped Mon 3 Mar 2025 \u2013 Sun 16 Mar 2025" in body
        assert "60.0%" in body and "3 met · 2 breached of 5" in body
        figures = kpis(body)
        assert figures["P1/P2 breaches"] == "1"
        assert figures["time over target"] == "2h 30m"
        assert figures["average overrun"] == "1h 15m"
        assert figures["longest overrun"] == "2h 00m"
        longest = known["incidents"]["c"].number
        assert f'<a href="/incidents/{longest}/">{longest}</a>' in body

    def test_by_agreement(self, known, agent):
        assert table(report(web(agent), "group=agreement"), "sla-table") == [
            ["Critical SLA", "2", "1", "1", "50.0%", "1", "30m", "30m", "30m"],
            ["Standard SLA", "3", "2", "1", "66.7%", "0", "2h 00m", "2h 00m", "2h 00m"],
            ["All", "5", "3", "2", "60.0%", "1", "2h 30m", "1h 15m", "2h 00m"],
        ]

    def test_by_priority(self, known, agent):
        rows = table(report(web(agent), "group=priority"), "sla-table")
        assert [r[:6] for r in rows] == [
            ["P1", "1", "0", "1", "0.0%", "1"],
            ["P2", "1", "1", "0", "100.0%", "0"],
            ["P3", "2", "2", "0", "100.0%", "0"],
            ["P4", "1", "0", "1", "0.0%", "0"],
            ["All", "5", "3", "2", "60.0%", "1"],
        ]

    def test_by_team(self, known, agent):
        rows = table(report(web(agent), "group=team"), "sla-table")
        assert [r[:7] for r in rows] == [
            ["Network", "2", "1", "1", "50.0%", "0", "2h 00m"],
            ["Service Desk", "3", "2", "1", "66.7%", "1", "30m"],
            ["All", "5", "3", "2", "60.0%", "1", "2h 30m"],
        ]

    def test_by_service(self, known, agent):
        rows = table(report(web(agent), "group=service"), "sla-table")
        assert [r[:5] for r in rows] == [
            ["E-mail", "2", "1", "1", "50.0%"],
            ["No service", "3", "2", "1", "66.7%"],
            ["All", "5", "3", "2", "60.0%"],
        ]

    def test_by_week(self, known, agent):
        rows = table(report(web(agent), "group=week"), "sla-table")
        assert [r[:5] for r in rows] == [
            ["2025-W10 from 03 Mar", "2", "2", "0", "100.0%"],
            ["2025-W11 from 10 Mar", "3", "1", "2", "33.3%"],
            ["All", "5", "3", "2", "60.0%"],
        ]

    def test_by_month(self, known, agent):
        body = page(
            web(agent).get(
                "/service-levels/?period=custom&date_from=2025-02-01&date_to=2025-03-31&group=month"
            )
        )
        rows = table(body, "sla-table")
        # 1 March counts now ("old": 9h on a 4h target).
        assert [r[:5] for r in rows] == [
            ["March 2025", "6", "3", "3", "50.0%"],
            ["All", "6", "3", "3", "50.0%"],
        ]

    def test_in_the_agents_time_zone(self, known, agent):
        """Periods start at midnight where the agent is: in Tokyo, 4 March 10:00 UTC is
        still 4 March, but 16 March 20:00 UTC is already the 17th."""
        Timer.objects.filter(pk=known["timers"]["e"].pk).update(stopped_at=at(16, 20))
        agent.time_zone = "Asia/Tokyo"
        agent.save(update_fields=["time_zone"])
        rows = table(report(web(agent), "group=agreement"), "sla-table")
        assert rows[-1][:4] == ["All", "4", "2", "2"]

    def test_only_slas_or_only_one_target(self, known, agent):
        Agreement.objects.filter(name="Standard").update(kind="ola")
        rows = table(report(web(agent), "group=agreement"), "sla-table")
        assert [r[0] for r in rows] == ["Critical SLA", "Standard OLA", "All"]
        rows = table(report(web(agent), "group=agreement&kind=sla"), "sla-table")
        assert [r[0] for r in rows] == ["Critical SLA", "All"]
        rows = table(report(web(agent), "group=agreement&metric=response"), "sla-table")
        assert rows == [["No targets stopped in this period."]]

    def test_nothing_in_the_period(self, agreements, agent):
        body = report(web(agent))
        assert "No targets stopped in this period." in body
        assert "No breaches in this period." in body
        assert kpis(body)["targets met"] == "—"

    def test_watermelon_warning(self, known, agent):
        """Mostly green, yet a P1 breach: the report says so next to the percentage."""
        assert "Green outside, red inside" not in report(web(agent))
        stop(known["incidents"]["c"], day=11, elapsed_hours=3)  # c met after all
        for day in (6, 7, 8, 9, 10, 14, 15):
            incident = factories.resolve(
                factories.incident(known["incidents"]["a"].caller, actor=agent), agent
            )
            stop(incident, day=day, elapsed_hours=1)
        body = report(web(agent))
        assert "91.7%" in body  # 11 of 12 met
        assert "Green outside, red inside" in body
        assert "1 priority 1\u20132 target was missed" in body


class TestTrend:
    def bars(self, body):
        return re.findall(r"<title>(\w[\w ]*) \(([^)]*)\): ([^<]*)</title>", body)

    def test_weekly_trend_of_twelve_weeks(self, known, agent):
        body = report(web(agent), "group=week")
        bars = self.bars(body)
        assert len(bars) == 12
        assert bars[-1] == ("W11", "10 Mar 2025", "33.3% met, 1 of 3")
        assert bars[-2] == ("W10", "3 Mar 2025", "100.0% met, 2 of 2")
        assert bars[0] == ("W52", "23 Dec 2024", "no targets stopped")
        assert bars[-3] == ("W09", "24 Feb 2025", "0.0% met, 0 of 1")  # "old", 1 March
        assert '<svg class="sla-chart"' in body
        assert "Share met per week, last 12 weeks" in body

    def test_monthly_trend(self, known, agent):
        body = report(web(agent), "group=month")
        bars = self.bars(body)
        assert len(bars) == 12
        # The old breach of 1 March is in March's bar (the trend ignores the period start).
        assert bars[-1] == ("Mar", "1 Mar 2025", "50.0% met, 3 of 6")
        assert bars[0][0] == "Apr"
        assert "Share met per month" in body

    @pytest.mark.parametrize(
        ("query", "unit"),
        [
            ("period=this_month&group=week", "week"),
            ("period=last_week&group=month", "month"),
            ("period=last_month&group=team", "month"),
            ("period=this_week&group=team", "week"),
        ],
    )
    def test_unit_follows_the_grouping_then_the_period(self, agent, query, unit):
        body = page(web(agent).get(f"/service-levels/?{query}"))
        assert f"Share met per {unit}, last 12 {unit}s" in body

    def test_bar_heights_follow_the_share(self, known, agent):
        body = report(web(agent), "group=week")
        heights = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', body)
        # W09 0%, W10 100% and W11 33.3% of the 140 px plot
        assert [float(h) for h in heights] == [0.0, 140.0, 46.6]
        assert body.count('class="bar good"') == 1 and body.count('class="bar poor"') == 2
        assert body.count('class="bar none"') == 9


class TestCsv:
    def test_download(self, known, agent):
        response = web(agent).get(f"/service-levels/?{PERIOD}&group=agreement&format=csv")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == (
            'attachment; filename="sla-compliance-agreement-20250303-20250316.csv"'
        )
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows == [
            [
                "group",
                "kind",
                "stopped",
                "met",
                "breached",
                "percent_met",
                "p1_p2_breaches",
                "hours_over_target",
                "average_hours_over",
                "longest_hours_over",
            ],
            ["Critical", "SLA", "2", "1", "1", "50.0", "1", "0.50", "0.50", "0.50"],
            ["Standard", "SLA", "3", "2", "1", "66.7", "0", "2.00", "2.00", "2.00"],
            ["All", "", "5", "3", "2", "60.0", "1", "2.50", "1.25", "2.00"],
        ]

    def test_same_grouping_as_the_page(self, known, agent):
        response = web(agent).get(f"/service-levels/?{PERIOD}&group=team&format=csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert [r[:6] for r in rows[1:]] == [
            ["Network", "", "2", "1", "1", "50.0"],
            ["Service Desk", "", "3", "2", "1", "66.7"],
            ["All", "", "5", "3", "2", "60.0"],
        ]

    def test_names_are_not_run_as_formulas(self, known, agent, service_desk):
        service_desk.name = "=HYPERLINK(1)"
        service_desk.save()
        response = web(agent).get(f"/service-levels/?{PERIOD}&group=team&format=csv")
        assert "'=HYPERLINK(1)" in response.content.decode()

    def test_the_page_links_to_it(self, known, agent):
        body = report(web(agent), "group=team")
        assert f'href="?{PERIOD.replace("&", "&amp;")}&amp;group=team&amp;format=csv"' in body

    def test_bad_parameters_are_not_a_file(self, agent):
        response = web(agent).get("/service-levels/?period=custom&format=csv")
        assert response.status_code == 400
        assert "Content-Disposition" not in response


class TestBreaches:
    def test_listed_largest_overrun_first(self, known, agent):
        rows = table(report(web(agent)), "sla-breaches")
        c, d = known["incidents"]["c"], known["incidents"]["d"]
        assert [r[:8] for r in rows] == [
            [
                c.number,
                "Resolve in 4:00:00 Standard",
                "P4",
                "Network",
                "2025-03-11 08:00",
                "2025-03-11 10:00",
                "2h 00m",
                "Save",
            ],
            [
                d.number,
                "Resolve in 1:00:00 Critical",
                "P1",
                "Service Desk",
                "2025-03-12 09:30",
                "2025-03-12 10:00",
                "30m",
                "Save",
            ],
        ]
        body = report(web(agent))
        assert f'<a href="/incidents/{d.number}/">{d.number}</a>' in body

    def test_agent_records_a_reason(self, known, agent):
        client = Client(enforce_csrf_checks=True)
        client.force_login(agent)
        timer = known["timers"]["d"]
        action = f"/service-levels/breaches/{timer.pk}/reason/?{PERIOD}"
        data = html_form(report(client), action)
        data["reason"] = "  Mail relay vendor took 30 minutes to answer.  "
        response = client.post(action, data)
        assert response.status_code == 302
        assert response.url == f"/service-levels/?{PERIOD}#breach-{timer.pk}"
        timer.refresh_from_db()
        assert timer.breach_reason == "Mail relay vendor took 30 minutes to answer."
        entry = JournalEntry.objects.for_record(known["incidents"]["d"]).latest("pk")
        assert (entry.kind, entry.internal, entry.actor) == ("sla", True, agent)
        assert entry.body == (
            "Resolve in 1:00:00: breach reason recorded: "
            "Mail relay vendor took 30 minutes to answer."
        )
        body = page(client.get(response.url))
        assert "Breach reason for" in body
        assert 'value="Mail relay vendor took 30 minutes to answer."' in body

    def test_the_caller_never_sees_the_reason(self, known, agent, alice):
        timer = known["timers"]["d"]
        web(agent).post(f"/service-levels/breaches/{timer.pk}/reason/", {"reason": "Vendor"})
        body = page(web(alice).get(f"/portal/issues/{known['incidents']['d'].number}/"))
        assert "Vendor" not in body

    def test_too_long_is_refused_and_nothing_saved(self, known, agent):
        timer = known["timers"]["d"]
        before = JournalEntry.objects.count()
        response = web(agent).post(
            f"/service-levels/breaches/{timer.pk}/reason/?{PERIOD}", {"reason": "x" * 501}
        )
        assert response.status_code == 400
        body = page(response)
        assert "At most 500 characters (this is 501)." in body
        assert f'value="{"x" * 501}"' in body  # what was typed is kept
        assert f'id="breach-{timer.pk}" class="has-error"' in body
        timer.refresh_from_db()
        assert timer.breach_reason == ""
        assert JournalEntry.objects.count() == before

    def test_clearing_a_reason(self, known, agent):
        timer = known["timers"]["c"]
        client = web(agent)
        client.post(f"/service-levels/breaches/{timer.pk}/reason/", {"reason": "Backlog"})
        client.post(f"/service-levels/breaches/{timer.pk}/reason/", {"reason": ""})
        timer.refresh_from_db()
        assert timer.breach_reason == ""
        bodies = JournalEntry.objects.for_record(known["incidents"]["c"]).values_list(
            "body", flat=True
        )
        assert "Resolve in 4:00:00: breach reason cleared" in list(bodies)

    def test_end_user_gets_403_and_nothing_changes(self, known, alice):
        timer = known["timers"]["d"]
        response = web(alice).post(
            f"/service-levels/breaches/{timer.pk}/reason/", {"reason": "Not me"}
        )
        assert response.status_code == 403
        timer.refresh_from_db()
        assert timer.breach_reason == ""

    def test_anonymous_is_sent_to_login(self, known, client):
        timer = known["timers"]["d"]
        response = client.post(f"/service-levels/breaches/{timer.pk}/reason/", {"reason": "x"})
        assert response.status_code == 302
        assert response.url.startswith("/login/")

    def test_without_csrf_token_refused(self, known, agent):
        client = Client(enforce_csrf_checks=True)
        client.force_login(agent)
        timer = known["timers"]["d"]
        response = client.post(f"/service-levels/breaches/{timer.pk}/reason/", {"reason": "x"})
        assert response.status_code == 403
        timer.refresh_from_db()
        assert timer.breach_reason == ""

    def test_only_breached_timers(self, known, agent):
        met = known["timers"]["a"]
        response = web(agent).post(f"/service-levels/breaches/{met.pk}/reason/", {"reason": "x"})
        assert response.status_code == 404

    def test_get_is_not_allowed(self, known, agent):
        timer = known["timers"]["d"]
        assert web(agent).get(f"/service-levels/breaches/{timer.pk}/reason/").status_code == 405


class TestAccessAndInput:
    def test_end_user_gets_the_403_page(self, alice):
        for path in ("/service-levels/", f"/service-levels/?{PERIOD}&format=csv"):
            response = web(alice).get(path)
            assert response.status_code == 403
            assert "This page is for the service desk" in page(response)

    def test_anonymous_is_sent_to_login(self, client):
        response = client.get("/service-levels/")
        assert response.status_code == 302
        assert response.url.startswith("/login/")

    def test_manager_and_agent_see_it(self, agent, manager):
        for user in (agent, manager):
            body = page(web(user).get("/service-levels/"))
            assert "Service level compliance" in body

    def test_default_is_this_month_by_agreement(self, agreements, agent):
        body = page(web(agent).get("/service-levels/"))
        assert '<option value="this_month" selected>' in body
        assert "<h2>By agreement</h2>" in body

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("period=custom", "From: Give the first day of the period."),
            ("period=custom&date_from=2025-03-10&date_to=2025-03-01", "must end on or after"),
            ("period=custom&date_from=2025-13-01&date_to=2025-03-01", "Enter a valid date."),
            ("period=someday", "Select a valid choice."),
            ("group=colour", "Select a valid choice."),
        ],
    )
    def test_bad_input_is_a_clear_error(self, agent, query, message):
        response = web(agent).get(f"/service-levels/?{query}")
        assert response.status_code == 400
        assert message in html.unescape(page(response))

    @pytest.mark.parametrize("period", ["this_week", "last_week", "this_month", "last_month"])
    def test_every_period(self, agent, agreements, alice, period):
        incident = factories.resolve(factories.incident(alice, actor=agent), agent)
        body = page(web(agent).get(f"/service-levels/?period={period}"))
        stopped_now = table(body, "sla-table")[-1][1] if "sla-total" in body else "0"
        assert stopped_now == ("1" if period.startswith("this") else "0"), incident

    def test_sidebar_link_and_practice_map(self, agent, known):
        body = page(web(agent).get("/incidents/"))
        assert "Service level management" in body
        assert 'href="/service-levels/"' in body
        practice_map = page(web(agent).get("/practices/"))
        assert '<a href="/service-levels/">Service level management</a>' in practice_map
        assert "Open breaches" in practice_map


class TestQueryCount:
    def many(self, count, alice, agent, service_desk, network_team, email_service):
        for i in range(count):
            made = factories.resolve(
                factories.incident(
                    alice, actor=agent, title=f"Bulk {i}", impact=1 + i % 3, urgency=1 + i % 2
                ),
                agent,
            )
            stop(
                made,
                day=4 + i % 10,
                hour=1 + i % 20,
                elapsed_hours=[0.5, 2, 5, 9][i % 4],
                team=[service_desk, network_team, None][i % 3],
                service=email_service if i % 2 else None,
            )

    @pytest.mark.parametrize(
        "group", ["agreement", "service", "priority", "team", "week", "month", "team&format=csv"]
    )
    def test_constant(
        self,
        agreements,
        alice,
        agent,
        service_desk,
        network_team,
        email_service,
        priority_matrix,
        group,
    ):
        client = web(agent)
        path = f"/service-levels/?{PERIOD}&group={group}"
        self.many(3, alice, agent, service_desk, network_team, email_service)
        client.get(path)  # warm caches (session, content types)
        few, _ = count_queries(client, path)
        self.many(27, alice, agent, service_desk, network_team, email_service)
        many, captured = count_queries(client, path)
        assert many == few, f"{few} queries for 3 timers, {many} for 30:\n{listing(captured)}"
        assert many <= 8, listing(captured)
