"""Reference pickers in a real browser: the agent finds a caller by part of their name,
picks with the keyboard and sees the VIP flag and contact card; the subcategory list
follows the category and the assignee list the group; the queue filters on a team by
name."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from incidents.models import Incident
from tests import factories
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def callers(org):
    carla = make_user("carla", organization=org, last_name="Vance", vip=True, phone="+49 30 1")
    carl = make_user("carl", last_name="Olsen")
    return carla, carl


@pytest.fixture
def categories(db):
    hardware = factories.category("Hardware")
    software = factories.category("Software")
    return {
        "Hardware": hardware,
        "Software": software,
        "Laptop": factories.category("Laptop", hardware),
        "Printer": factories.category("Printer", hardware),
        "E-mail client": factories.category("E-mail client", software),
    }


def options(page):
    return page.get_by_role("listbox").get_by_role("option")


def test_log_an_incident_with_pickers(
    pages, agent, agent2, service_desk, network_team, callers, categories
):
    carla, _ = callers
    factories.incident(carla, agent, title="Earlier issue")
    desk = pages.signed_in("agent")
    desk.goto("/incidents/new/")
    desk.get_by_label("Title").fill("Printer prints blank pages")

    # The caller: part of a name, the second suggestion chosen with the arrow keys.
    caller = desk.get_by_role("combobox", name="Caller")
    caller.press_sequentially("car")
    expect(options(desk)).to_have_count(2)
    expect(options(desk).first).to_contain_text("Carl Olsen")
    expect(options(desk).nth(1)).to_contain_text("Carla Vance")
    expect(options(desk).nth(1)).to_contain_text("VIP")
    expect(options(desk).nth(1)).to_contain_text("carla@example.com")
    caller.press("ArrowDown")
    expect(options(desk).nth(1)).to_have_attribute("aria-selected", "true")
    caller.press("Enter")
    expect(desk.get_by_role("listbox")).to_be_hidden()
    expect(caller).to_have_value("Carla Vance")
    field = desk.locator(".field", has=caller)
    expect(field.locator(".picker-flag")).to_have_text("VIP")
    expect(desk.locator("input[name=caller]")).to_have_value("carla")

    # Her contact card on hover: phone, organization, open incidents.
    field.get_by_role("button", name="Contact card").hover()
    card = desk.get_by_role("tooltip")
    expect(card).to_contain_text("Carla Vance")
    expect(card).to_contain_text("+49 30 1")
    expect(card).to_contain_text("Acme")
    expect(card.get_by_role("link", name="1", exact=True)).to_have_attribute(
        "href", "/incidents/?caller=carla&open=true"
    )
    desk.get_by_label("Title").hover()  # away from the button: the card goes
    expect(card).to_be_hidden()

    # The subcategories are the chosen category's only; another category clears one.
    category = desk.get_by_role("combobox", name="Category", exact=True)
    subcategory = desk.get_by_role("combobox", name="Subcategory")
    category.press_sequentially("hard")
    expect(options(desk)).to_have_text(["Hardware"])
    category.press("Enter")
    subcategory.click()
    expect(options(desk)).to_have_count(2)
    expect(options(desk).first).to_contain_text("Laptop")
    expect(options(desk).nth(1)).to_contain_text("Printer")
    subcategory.press("ArrowDown")
    subcategory.press("Enter")
    expect(subcategory).to_have_value("Printer")
    category.fill("")
    category.press_sequentially("soft")
    expect(options(desk)).to_have_text(["Software"])
    category.press("Enter")
    expect(subcategory).to_have_value("")
    subcategory.click()
    expect(options(desk)).to_have_count(1)
    expect(options(desk).first).to_contain_text("E-mail client")
    subcategory.press("Enter")
    expect(subcategory).to_have_value("E-mail client")

    # The assignee list offers the chosen group's members.
    group = desk.get_by_role("combobox", name="Assignment group")
    assignee = desk.get_by_role("combobox", name="Assigned to")
    group.press_sequentially("netw")
    group.press("Enter")  # before the suggestions came: the first is taken when they do
    expect(group).to_have_value("Network")
    assignee.click()
    expect(options(desk)).to_have_count(1)
    expect(options(desk).first).to_contain_text("Agent2")
    assignee.press("Escape")
    group.fill("")
    group.press_sequentially("desk")
    expect(options(desk)).to_have_text(["Service Desk"])
    group.press("Enter")
    expect(group).to_have_value("Service Desk")
    assignee.click()
    expect(options(desk)).to_have_count(2)  # agent and manager: not agent2
    assignee.press_sequentially("agent")
    expect(options(desk)).to_have_count(1)
    assignee.press("Enter")
    expect(assignee).to_have_value("Agent")

    desk.get_by_role("button", name="Log incident").click()
    expect(desk.get_by_role("status")).to_contain_text("logged")
    incident = Incident.objects.get(title="Printer prints blank pages")
    assert incident.caller == carla
    assert (incident.category, incident.subcategory) == (
        categories["Software"],
        categories["E-mail client"],
    )
    assert (incident.assignment_group, incident.assigned_to) == (service_desk, agent)
    expect(desk.get_by_role("combobox", name="Caller")).to_have_value("Carla Vance")
    expect(desk.locator(".picker-flag").first).to_have_text("VIP")
    # The caller's name in the page's header: the card on focus.
    desk.get_by_role("button", name="Carla Vance: contact card").focus()
    expect(desk.get_by_role("tooltip")).to_contain_text("carla@example.com")


def test_the_queue_filters_on_a_team_picked_by_name(
    pages, alice, agent, agent2, service_desk, network_team
):
    factories.incident(alice, agent, title="Desk issue", assignment_group=service_desk)
    factories.incident(alice, agent, title="Switch issue", assignment_group=network_team)
    desk = pages.signed_in("agent")
    desk.goto("/incidents/")
    queue = desk.locator("#queue")
    expect(queue).to_contain_text("Desk issue")
    group = desk.get_by_role("combobox", name="Assignment group")
    group.press_sequentially("net")
    expect(options(desk)).to_have_text(["Network"])
    group.press("Enter")
    expect(desk).to_have_url(re.compile(rf"assignment_group={network_team.pk}"))
    expect(queue).to_contain_text("Switch issue")
    expect(queue).not_to_contain_text("Desk issue")
    # The shortcut is still there: my teams.
    group.fill("")
    group.press_sequentially("my")
    expect(options(desk).first).to_have_text("My teams")
    group.press("Enter")
    expect(desk).to_have_url(re.compile(r"assignment_group=mine"))
    expect(queue).to_contain_text("Desk issue")
    expect(queue).not_to_contain_text("Switch issue")


def test_the_known_error_database_filters_on_a_ci_picked_by_name(
    pages, agent, service_desk, mail_server
):
    from tests.problems.conftest import known_error

    vpn_gateway = factories.ci("vpn-gw-01", "server")
    known_error(agent, service_desk, title="Mail relay drops", configuration_items=[mail_server])
    known_error(agent, service_desk, title="VPN drops when idle", configuration_items=[vpn_gateway])
    desk = pages.signed_in("agent")
    desk.goto("/problems/known-errors/")
    queue = desk.locator("#queue")
    expect(queue).to_contain_text("Mail relay drops")
    expect(queue).to_contain_text("VPN drops when idle")
    ci = desk.get_by_role("combobox", name="Configuration item")
    ci.press_sequentially("vpn-gw")
    expect(options(desk)).to_have_count(1)
    expect(options(desk).first).to_contain_text("vpn-gw-01")
    ci.press("Enter")
    expect(desk).to_have_url(re.compile(rf"configuration_item={vpn_gateway.pk}"))
    expect(queue).to_contain_text("VPN drops when idle")
    expect(queue).not_to_contain_text("Mail relay drops")
    # Reloaded, the filter still names the CI.
    desk.reload()
    expect(desk.get_by_role("combobox", name="Configuration item")).to_have_value(
        "vpn-gw-01 (Server)"
    )
    expect(desk.locator("#queue")).not_to_contain_text("Mail relay drops")


def test_an_assignee_picked_first_brings_their_only_team(
    pages, agent, agent2, service_desk, network_team
):
    desk = pages.signed_in("agent")
    desk.goto("/incidents/new/")
    group = desk.get_by_role("combobox", name="Assignment group")
    assignee = desk.get_by_role("combobox", name="Assigned to")
    assignee.press_sequentially("agent2")
    expect(options(desk)).to_have_count(1)
    expect(options(desk).first).to_contain_text("Network")  # their team, beside the name
    assignee.press("Enter")
    expect(assignee).to_have_value("Agent2")
    expect(group).to_have_value("Network")
    expect(desk.locator("select[name=assignment_group]")).to_have_value(str(network_team.pk))
