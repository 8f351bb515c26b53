"""The agent's home ("My work"): their open work and their teams' across every record
type, each figure a link to the queue that lists exactly those records; targets of their
teams breaching soon; approvals awaiting them; a team lead's backlog. Staff only, and a
fixed number of queries however much work there is."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue import services as catalogue_services
from catalogue.models import ApprovalLevel
from itsm.core.practices import registry
from problems import services as problem_services
from tests import factories
from tests.factories import page, web
from tests.service_level.conftest import agreement
from tests.service_level.test_timers import shift

pytestmark = pytest.mark.django_db


def figure(html: str, label: str, column: str) -> tuple[int, str]:
    """(count, link) of one figure: ``column`` is mine, unassigned or teams."""
    aria = {
        "mine": "assigned to me",
        "unassigned": "unassigned in my teams",
        "teams": "open in my teams",
    }
    found = re.search(
        rf'<a class="figure[^"]*" href="([^"]+)" aria-label="{label} {aria[column]}: (\d+)">',
        html,
    )
    assert found, f"no {column} figure for {label}"
    return int(found.group(2)), found.group(1).replace("&amp;", "&")


def numbers(html: str) -> set[str]:
    return set(re.findall(r'data-href="/[\w/-]*/((?:INC|PRB|REQ|TASK)\d+)/"', html))


@pytest.fixture
def work(agent, agent2, alice, service_desk, network_team, priority_matrix):
    service_desk.members.add(agent2)
    mine = factories.incident(
        alice, actor=agent, title="Mine", assignment_group=service_desk, assigned_to=agent
    )
    waiting = factories.incident(
        alice, actor=agent, title="Nobody's", assignment_group=service_desk
    )
    colleague = factories.incident(
        alice, actor=agent, title="Colleague's", assignment_group=service_desk, assigned_to=agent2
    )
    elsewhere = factories.incident(
        alice, actor=agent, title="Network's", assignment_group=network_team
    )
    done = factories.incident(
        alice, actor=agent, title="Done", assignment_group=service_desk, assigned_to=agent
    )
    factories.resolve(done, agent)
    problem = problem_services.open_problem(
        agent, {"title": "Relay drops", "assignment_group": service_desk}
    )
    return {
        "mine": mine,
        "waiting": waiting,
        "colleague": colleague,
        "elsewhere": elsewhere,
        "done": done,
        "problem": problem,
    }


def test_agents_land_on_their_work(agent):
    response = web(agent).get("/")
    assert response.status_code == 302 and response["Location"] == reverse("work-home")
    html = page(web(agent).get(reverse("work-home")))
    assert ">My work</a>" in html  # in the navigation, first


def test_end_users_and_strangers_may_not(alice, client):
    assert web(alice).get(reverse("work-home")).status_code == 403
    response = client.get(reverse("work-home"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_figures_count_open_work_and_link_to_exactly_it(agent, work):
    client = web(agent)
    html = page(client.get(reverse("work-home")))
    expected = {
        "mine": {work["mine"].number},
        "unassigned": {work["waiting"].number},
        "teams": {work["mine"].number, work["waiting"].number, work["colleague"].number},
    }
    for column, wanted in expected.items():
        count, link = figure(html, "Incidents", column)
        assert count == len(wanted), column
        assert numbers(page(client.get(link))) == wanted, (column, link)
    count, link = figure(html, "Problems", "unassigned")
    assert count == 1
    assert numbers(page(client.get(link))) == {work["problem"].number}


def test_every_figure_link_is_a_valid_filter_of_its_queue(agent, work):
    client = web(agent)
    html = page(client.get(reverse("work-home")))
    for label in ("Incidents", "Problems", "Fulfilment tasks", "Service requests"):
        for column in ("mine", "unassigned", "teams"):
            _, link = figure(html, label, column)
            response = client.get(link)
            assert response.status_code == 200, (label, column, link)


def test_assigned_to_me_lists_open_records_only(agent, work):
    html = page(web(agent).get(reverse("work-home")))
    mine = html[html.index("Assigned to me, latest first") :]
    assert work["mine"].number in mine
    assert work["done"].number not in mine and work["colleague"].number not in mine


def test_breaching_soon_lists_my_teams_targets_most_urgent_first(agent, work, service_desk):
    from practices.service_level.models import BusinessCalendar, Timer

    always = BusinessCalendar.objects.create(name="24x7", always_open=True)
    agreement("Desk OLA", always, resolution=timedelta(hours=2), kind="ola", team=service_desk)
    late = factories.incident(work["mine"].caller, actor=agent, assignment_group=service_desk)
    soon = factories.incident(work["mine"].caller, actor=agent, assignment_group=service_desk)
    shift(Timer.objects.get(object_id=late.pk), hours=3)
    shift(Timer.objects.get(object_id=soon.pk), hours=1.5)  # due in half an hour
    later = factories.incident(work["mine"].caller, actor=agent, assignment_group=service_desk)
    html = page(web(agent).get(reverse("work-home")))
    start = html.index('aria-labelledby="work-breaching-title"')
    block = html[start : html.index("</section>", start)]
    assert block.index(late.number) < block.index(soon.number)
    assert later.number not in block  # due in two hours: not soon, as in the queue's filter
    assert f'href="/incidents/{late.number}/"' in block
    assert "OLA Resolve overdue" in block


def test_a_manager_sees_approvals_waiting_and_the_team_backlog(manager, alice, work):
    item = factories.laptop_item()
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    alice.manager = manager
    alice.save()
    request = catalogue_services.submit_request(alice, item, {"model": "mac"})
    html = page(web(manager).get(reverse("work-home")))
    approvals = html[html.index("Awaiting my approval") :]
    assert request.number in approvals and reverse("fulfilment:approvals") in approvals
    backlog = html[html.index("Team backlog") :]
    assert "Service Desk" in backlog
    # three open incidents in the team, one of them unassigned
    assert re.search(
        r'<a href="[^"]*assignment_group=\d+[^"]*">3</a> <span class="muted">\(1\)</span>', backlog
    )


def test_an_agent_without_approvals_or_a_team_to_lead_sees_neither(agent, work):
    html = page(web(agent).get(reverse("work-home")))
    assert "Awaiting my approval" not in html and "Team backlog" not in html


def test_the_home_costs_the_same_with_more_work(agent, alice, service_desk, work):
    client = web(agent)
    client.get(reverse("work-home"))

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("work-home")).status_code == 200
        return len(captured)

    few = count()
    for i in range(12):
        factories.incident(
            alice, actor=agent, title=f"More {i}", assignment_group=service_desk, assigned_to=agent
        )
    assert count() == few
    # session, user, teams; two for the targets breaching soon, one for each approvals
    # panel (requests, changes); per record type one for the figures and one for what
    # is assigned; the teams led
    assert few <= 8 + 2 * len(registry.work_queues)


def test_an_agent_in_no_team_is_told_so_and_counts_only_their_own(agent2, alice, agent):
    html = page(web(agent2).get(reverse("work-home")))
    assert "You are in no team yet" in html
    count, _ = figure(html, "Incidents", "mine")
    assert count == 0
    assert "Breaching soon" not in html[html.index("<main") :]
