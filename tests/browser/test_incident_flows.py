"""Incident management through a real browser: an employee reports an issue in the portal,
an agent works and resolves it in the workspace, the employee confirms or reopens it.

Everything a person does here is a click or a key press on the live server; only the
starting data of the shorter tests is made through ``incidents.services``."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from incidents import services
from incidents.models import Incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_REPLY = "Hi Alice, we restarted the mail relay. Please try again."
WORK_NOTE = "Relay mq-3 was wedged; root cause unknown, keep an eye on it."
RESOLUTION_NOTES = "The mail relay was restarted and mail flows again."


def state_badge(page):
    """The state badge in the incident's header (workspace) or facts line (portal)."""
    return page.locator(".facts .badge[class*='state-']")


def report_issue(page, title, details):
    """In the portal: open the report form, fill it in, send it; returns the INC number."""
    page.get_by_role("link", name=re.compile(r"^Report an issue")).first.click()
    expect(page.get_by_role("heading", name="Report an issue")).to_be_visible()
    page.get_by_label("What is wrong?").fill(title)
    page.get_by_label("Details").fill(details)
    page.get_by_role("button", name="Send", exact=True).click()
    confirmation = page.get_by_role("status")
    expect(confirmation).to_contain_text("Thanks, we have logged your issue as INC")
    number = re.search(r"INC\d+", confirmation.inner_text()).group(0)
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(state_badge(page)).to_have_text("New")
    return number


def pick(within, label, text):
    """Choose ``text`` in the reference picker labelled ``label`` (on a page, or in a part
    of it): type it, take the suggestion."""
    # The picker's box (a plain select is a combobox too, until the picker takes over).
    box = within.get_by_role("combobox", name=label, exact=True).and_(within.locator("input"))
    box.fill("")
    box.press_sequentially(text)
    option = within.get_by_role("listbox").get_by_role("option", name=re.compile(rf"^{text}\b"))
    expect(option.first).to_be_visible()
    option.first.click()
    expect(box).to_have_value(text)


def test_report_work_resolve_and_confirm(pages, alice, agent, service_desk):
    # 1. Alice signs in, lands on the portal and reports an issue.
    portal = pages.signed_in("alice")
    expect(portal).to_have_url(re.compile(r"/portal/$"))
    expect(portal.get_by_role("heading", name="Hi Alice, how can we help?")).to_be_visible()
    number = report_issue(portal, "Outlook cannot send mail", "Every message stays in the outbox.")
    portal.get_by_role("link", name="My tickets").first.click()
    my_tickets = portal.locator("#my-tickets")
    expect(my_tickets.get_by_role("heading", name="My tickets")).to_be_visible()
    ticket = my_tickets.get_by_role("link", name=f"{number} Outlook cannot send mail")
    expect(ticket).to_be_visible()

    # 2. The agent signs in, lands on their work, opens the queue, finds the incident.
    services.open_incident(agent, {"title": "Printer out of toner"})
    desk = pages.signed_in("agent")
    expect(desk).to_have_url(re.compile(r"/work/$"))
    expect(desk.get_by_role("heading", name="My work")).to_be_visible()
    desk.locator("aside.sidebar").get_by_role("link", name="Incidents", exact=True).click()
    expect(desk).to_have_url(re.compile(r"/incidents/$"))
    expect(desk.get_by_role("heading", name="Incidents", exact=True)).to_be_visible()
    rows = desk.locator("table.queue tbody tr[data-href]")
    expect(rows).to_have_count(2)
    # A title filter narrows the queue; an exact number in the top search goes straight to it.
    search = desk.get_by_role("searchbox", name="Filter by title or number")
    search.fill("Outlook")
    search.press("Enter")
    expect(rows).to_have_count(1)
    search = desk.get_by_role("combobox", name="Search everything")
    search.fill(number)
    search.press("Enter")
    expect(desk).to_have_url(re.compile(rf"/incidents/{number}/$"))
    expect(desk.get_by_role("heading", name="Outlook cannot send mail")).to_be_visible()
    expect(state_badge(desk)).to_have_text("New")

    # Assign it in the fields form on the right and save.
    pick(desk, "Assignment group", "Service Desk")
    pick(desk, "Assigned to", "Agent")
    desk.get_by_role("button", name="Save (Ctrl+S)").click()
    expect(desk.get_by_role("status")).to_have_text(f"{number} saved.")
    expect(desk.get_by_role("combobox", name="Assignment group")).to_have_value("Service Desk")
    expect(desk.locator("select[name=assignment_group] option:checked")).to_have_text(
        "Service Desk"
    )
    expect(desk.get_by_role("combobox", name="Assigned to")).to_have_value("Agent")
    expect(desk.locator("select[name=assigned_to] option:checked")).to_have_text("Agent")

    # Now it is in the agent's "My open" view; a click anywhere on the row opens it.
    desk.get_by_role("link", name="My open").first.click()
    expect(desk).to_have_url(re.compile(r"\?view=my_open$"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Service Desk")
    rows.first.get_by_text("Outlook cannot send mail").click()
    expect(desk).to_have_url(re.compile(rf"/incidents/{number}/$"))

    desk.get_by_role("button", name="Start work", exact=True).click()
    expect(desk.get_by_role("status")).to_have_text(f"{number} is now in progress.")
    expect(state_badge(desk)).to_have_text("In progress")

    # A public reply (the default), then an internal work note.
    expect(desk.get_by_role("radio", name="Reply to caller")).to_be_checked()
    desk.get_by_label("Message").fill(PUBLIC_REPLY)
    desk.get_by_role("button", name="Send", exact=True).click()
    expect(desk.get_by_role("status")).to_have_text("Reply sent to the caller.")
    desk.get_by_role("radio", name="Work note").check()
    desk.get_by_label("Message").fill(WORK_NOTE)
    desk.get_by_role("button", name="Send", exact=True).click()
    expect(desk.get_by_role("status")).to_have_text("Work note added.")
    timeline = desk.locator("ol.timeline")
    expect(timeline.locator(".entry.kind-comment")).to_contain_text(PUBLIC_REPLY)
    expect(timeline.locator(".entry.kind-work_note")).to_contain_text(WORK_NOTE)

    # Resolving asks for a resolution code and notes, both required.
    desk.get_by_role("button", name="Resolve…").click()
    dialog = desk.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(f"Resolve {number}")
    code = dialog.get_by_label("Resolution code")
    notes = dialog.get_by_label("Resolution notes")
    expect(code).to_be_focused()
    expect(code).to_have_js_property("required", True)
    expect(notes).to_have_js_property("required", True)
    dialog.get_by_role("button", name="Resolve", exact=True).click()
    expect(dialog).to_be_visible()  # the browser kept the empty form from being sent
    assert code.evaluate("el => el.validity.valueMissing")
    code.select_option(label="Solved (permanently)")
    notes.fill(RESOLUTION_NOTES)
    dialog.get_by_role("button", name="Resolve", exact=True).click()
    expect(desk.get_by_role("status")).to_have_text(f"{number} is now resolved.")
    expect(state_badge(desk)).to_have_text("Resolved")
    expect(desk.locator(".resolution")).to_contain_text(RESOLUTION_NOTES)

    # 3. Alice follows her ticket: resolution and reply, never the work note.
    portal.reload()
    expect(ticket.locator("xpath=..")).to_contain_text("Resolved")
    ticket.click()
    expect(state_badge(portal)).to_have_text("Resolved")
    expect(portal.get_by_text("handled by Agent")).to_be_visible()
    resolution = portal.get_by_role("region", name="Resolution")
    expect(resolution).to_contain_text("We think this is fixed")
    expect(resolution).to_contain_text(RESOLUTION_NOTES)
    expect(portal.locator("ol.timeline")).to_contain_text(PUBLIC_REPLY)
    expect(portal.get_by_text(WORK_NOTE)).to_have_count(0)
    assert WORK_NOTE not in portal.content()
    assert "work note" not in portal.locator("ol.timeline").inner_text().lower()

    resolution.get_by_role("button", name="Yes, it's fixed").click()
    expect(portal.get_by_role("status")).to_have_text("Thanks for confirming; the issue is closed.")
    expect(state_badge(portal)).to_have_text("Closed")
    expect(portal.get_by_role("button", name="Yes, it's fixed")).to_have_count(0)
    expect(portal.get_by_label("Add a comment")).to_have_count(0)

    desk.reload()
    expect(state_badge(desk)).to_have_text("Closed")


@pytest.fixture
def resolved_incident(alice, agent, service_desk):
    incident = services.open_incident(
        alice, {"title": "VPN drops every hour", "description": "Since Monday."}, "portal"
    )
    services.update_incident(
        incident,
        agent,
        {"assignment_group": service_desk, "assigned_to": agent, "state": "in_progress"},
    )
    services.update_incident(
        incident,
        agent,
        {
            "state": "resolved",
            "resolution_code": "solved_workaround",
            "resolution_notes": "Your VPN profile was renewed.",
        },
    )
    incident.refresh_from_db()
    assert incident.state == "resolved"
    return incident


def test_caller_reopens_a_resolved_incident(pages, resolved_incident):
    number = resolved_incident.number
    reason = "Still dropping, twice this morning."

    portal = pages.signed_in("alice")
    portal.get_by_role("link", name=f"{number} VPN drops every hour").click()
    resolution = portal.get_by_role("region", name="Resolution")
    expect(resolution).to_contain_text("Your VPN profile was renewed.")
    resolution.get_by_label("What is still wrong?").fill(reason)
    resolution.get_by_role("button", name="No, reopen it").click()
    expect(portal.get_by_role("status")).to_have_text(
        "The issue is reopened; we will look at it again."
    )
    expect(state_badge(portal)).to_have_text("In progress")
    expect(portal.locator("ol.timeline")).to_contain_text(reason)

    desk = pages.signed_in("agent")
    desk.goto(f"/incidents/{number}/")
    expect(state_badge(desk)).to_have_text("In progress")
    comment = desk.locator("ol.timeline .entry.kind-comment", has_text=reason)
    expect(comment).to_be_visible()
    expect(comment.locator(".meta")).to_contain_text("Alice")
    expect(desk.locator(".resolution")).to_have_count(0)


def test_queue_keyboard_j_then_enter_opens_first_incident(pages, alice, agent, service_desk):
    for title in ("Printer on 3rd floor jams", "Laptop fan is loud", "Cannot open shared drive"):
        services.open_incident(alice, {"title": title}, "portal")

    desk = pages.signed_in("agent")
    desk.goto("/incidents/")
    rows = desk.locator("table.queue tbody tr[data-href]")
    expect(rows).to_have_count(3)
    first = rows.first
    href = first.get_attribute("data-href")
    title = first.locator("td.title").inner_text()
    # The default view: the open ones, the most urgent first, then the oldest
    assert title == "Printer on 3rd floor jams"

    desk.keyboard.press("j")
    expect(first).to_have_class(re.compile(r"\bcursor\b"))
    expect(rows.nth(1)).not_to_have_class(re.compile(r"\bcursor\b"))
    desk.keyboard.press("Enter")
    expect(desk).to_have_url(re.compile(re.escape(href) + "$"))
    expect(desk.get_by_role("heading", name=title)).to_be_visible()


def assert_no_horizontal_overflow(page, width):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide on a {width}px screen"


def test_phone_sized_portal_report(pages, alice):
    width = 390
    portal = pages.signed_in("alice", width=width, height=844)
    expect(portal).to_have_url(re.compile(r"/portal/$"))
    assert_no_horizontal_overflow(portal, width)

    portal.get_by_role("link", name=re.compile(r"^Report an issue")).first.click()
    expect(portal.get_by_role("heading", name="Report an issue")).to_be_visible()
    assert_no_horizontal_overflow(portal, width)
    for field in (
        portal.get_by_label("What is wrong?"),
        portal.get_by_label("Details"),
        portal.get_by_label("Which service is affected?"),
        portal.get_by_role("button", name="Send", exact=True),
    ):
        field.scroll_into_view_if_needed()
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box

    portal.get_by_label("What is wrong?").fill("Phone cannot sync calendar")
    portal.get_by_label("Details").fill("Since the last update.")
    portal.get_by_role("button", name="Send", exact=True).click()
    expect(portal.get_by_role("status")).to_contain_text("Thanks, we have logged your issue")
    expect(portal.get_by_role("heading", name="Phone cannot sync calendar")).to_be_visible()
    assert_no_horizontal_overflow(portal, width)
    assert Incident.objects.filter(title="Phone cannot sync calendar", caller=alice).exists()


def test_assignee_list_follows_the_assignment_group(
    pages, alice, agent, agent2, service_desk, network_team
):
    record = services.open_incident(agent, {"title": "Switch port dead", "caller": alice})
    desk = pages.signed_in("agent")
    desk.goto(f"/incidents/{record.number}/")
    assignee = desk.get_by_role("combobox", name="Assigned to")
    suggestions = desk.get_by_role("listbox").get_by_role("option")
    pick(desk, "Assignment group", "Network")
    assignee.click()
    expect(suggestions).to_have_count(1)
    expect(suggestions.first).to_contain_text("Agent2")
    suggestions.first.click()
    expect(assignee).to_have_value("Agent2")
    pick(desk, "Assignment group", "Service Desk")
    # Agent2 is not in Service Desk: the choice is cleared rather than refused on save.
    expect(assignee).to_have_value("")
    expect(desk.locator("select[name=assigned_to]")).to_have_value("")
    assignee.click()
    expect(suggestions).to_have_count(2)
    expect(suggestions.first).to_contain_text("Agent")
    expect(suggestions.nth(1)).to_contain_text("Manager")


def test_bulk_assign_from_the_queue(pages, alice, agent, service_desk):
    first = services.open_incident(agent, {"title": "Scanner offline", "caller": alice})
    second = services.open_incident(agent, {"title": "Scanner jams", "caller": alice})
    desk = pages.signed_in("agent")
    desk.goto("/incidents/")
    bar = desk.locator("#bulk-bar")
    expect(bar).to_be_hidden()
    desk.get_by_label(f"Select {first.number}").check()
    desk.get_by_label(f"Select {second.number}").check()
    expect(bar).to_be_visible()
    pick(bar, "Assignment group", "Service Desk")
    pick(bar, "Assignee", "Agent")
    bar.locator("select[name=state]").select_option(label="In progress")
    bar.get_by_role("button", name="Apply").click()
    expect(desk.get_by_role("status")).to_have_text("Updated 2 incidents.")
    for incident in (first, second):
        incident.refresh_from_db()
        assert (incident.assigned_to, incident.state) == (agent, "in_progress")


def test_a_view_saved_after_live_filtering_shows_those_filters(pages, alice, agent, service_desk):
    services.open_incident(
        agent, {"title": "Mail down for everyone", "caller": alice, "major": True}
    )
    services.open_incident(agent, {"title": "Mouse squeaks", "caller": alice})
    desk = pages.signed_in("agent")
    desk.goto("/incidents/")
    queue = desk.locator("#queue")
    expect(queue).to_contain_text("Mouse squeaks")
    # Filter live (htmx swaps the table), then save what is shown.
    desk.locator("#id_search").press_sequentially("Mail down")  # keyup: the filter is live
    expect(queue).not_to_contain_text("Mouse squeaks")
    expect(desk.get_by_role("tab", name="All", exact=True)).not_to_have_class(re.compile("active"))
    desk.get_by_label("View name").fill("Mail outage")
    desk.get_by_role("button", name="Save view").click()
    expect(desk.get_by_role("status")).to_contain_text("View “Mail outage” saved.")
    # Opened again from the tab, the view shows only what was filtered.
    desk.goto(desk.url.split("?")[0])
    desk.get_by_role("tab", name="Mail outage").click()
    expect(queue).to_contain_text("Mail down for everyone")
    expect(queue).not_to_contain_text("Mouse squeaks")


def test_the_bulk_bar_says_how_many_rows_are_selected(pages, alice, agent, service_desk):
    for title in ("Mail down", "Mouse squeaks", "VPN drops"):
        services.open_incident(agent, {"title": title, "caller": alice})
    desk = pages.signed_in("agent")
    desk.goto("/incidents/")
    boxes = desk.locator("#queue input[name=numbers]")
    boxes.nth(0).check()
    expect(desk.locator("[data-selected-count]")).to_have_text("1 selected")
    boxes.nth(2).check()
    expect(desk.locator("[data-selected-count]")).to_have_text("2 selected")


def test_the_composer_and_the_filter_menus_say_what_they_hold(pages, alice, agent, service_desk):
    incident = services.open_incident(agent, {"title": "Mail down", "caller": alice})
    desk = pages.signed_in("agent")
    desk.goto("/incidents/")
    state = desk.locator("details.dropdown summary", has_text="State")
    state.click()
    desk.locator("details.dropdown input[name=state][value=new]").check()
    expect(state).to_have_text("State (1)")
    desk.goto(f"{desk.url.split('/incidents/')[0]}/incidents/{incident.number}/")
    body = desk.locator("#reply-body")
    expect(body).to_have_attribute("placeholder", re.compile("^Write a reply"))
    desk.locator(".reply-box label.tab", has_text="Work note").click()
    expect(body).to_have_attribute("placeholder", re.compile("^Write a work note"))
