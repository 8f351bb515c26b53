"""The employee portal through a real browser: the home flags what waits for the person
(and a resolution is confirmed from there), nothing scrolls sideways on a phone and the
navigation keeps to one row, an issue is reported with its urgency and a screenshot, and
what was typed survives a look at a suggestion and the way back."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from catalogue import services as catalogue
from incidents import services
from incidents.models import Incident
from itsm.core.models import Attachment
from practices.knowledge import services as knowledge
from practices.knowledge.models import KnowledgeCategory
from problems.models import KnownErrorDeflection
from tests import factories
from tests.assets.helpers import deployed
from tests.problems.conftest import known_error

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def resolved(alice, agent, priority_matrix):
    incident = factories.incident(alice, actor=agent, title="VPN drops every hour")
    return factories.resolve(incident, agent, notes="Your VPN profile was renewed.")


@pytest.fixture
def vpn_known_error(agent, service_desk):
    return known_error(
        agent,
        service_desk,
        title="VPN drops when idle",
        workaround="Turn on keep-alive in the VPN client.",
        public=True,
    )


def test_the_home_flags_a_resolution_and_it_is_confirmed_there(pages, alice, agent, resolved):
    waiting_on_us = factories.incident(alice, actor=agent, title="New monitor please")
    portal = pages.signed_in("alice")
    waiting = portal.get_by_role("region", name=re.compile("^Waiting for you"))
    expect(waiting).to_contain_text("Resolved: is it fixed?")
    expect(waiting).to_contain_text("VPN drops every hour")
    expect(waiting).not_to_contain_text("New monitor please")
    # The same ticket in "My tickets" carries the badge; the other one does not.
    tickets = portal.locator("#my-tickets")
    flagged = tickets.locator("li.ticket", has_text=resolved.number)
    expect(flagged.locator(".badge-waiting")).to_have_text("Waiting for you")
    expect(
        tickets.locator("li.ticket", has_text=waiting_on_us.number).locator(".badge-waiting")
    ).to_have_count(0)

    waiting.get_by_role("button", name="Yes, it's fixed").click()
    expect(portal).to_have_url(re.compile(r"/portal/$"))
    expect(portal.get_by_role("status")).to_contain_text(
        "Thanks for confirming; the issue is closed."
    )
    expect(portal.get_by_role("region", name=re.compile("^Waiting for you"))).to_have_count(0)
    assert Incident.objects.get(pk=resolved.pk).state == "closed"

    # Open and closed tickets sit on two tabs.
    open_tab = tickets.get_by_role("tab", name=re.compile("^Open"))
    closed_tab = tickets.get_by_role("tab", name=re.compile("^Closed"))
    expect(open_tab).to_have_attribute("aria-selected", "true")
    expect(
        tickets.get_by_role("link", name=f"{waiting_on_us.number} New monitor please")
    ).to_be_visible()
    expect(
        tickets.get_by_role("link", name=f"{resolved.number} VPN drops every hour")
    ).to_be_hidden()
    closed_tab.click()
    expect(closed_tab).to_have_attribute("aria-selected", "true")
    expect(
        tickets.get_by_role("link", name=f"{resolved.number} VPN drops every hour")
    ).to_be_visible()
    expect(
        tickets.get_by_role("link", name=f"{waiting_on_us.number} New monitor please")
    ).to_be_hidden()
    closed_tab.press("ArrowLeft")  # the keyboard moves between tabs too
    expect(open_tab).to_be_focused()
    expect(open_tab).to_have_attribute("aria-selected", "true")


def sideways(page) -> int:
    """How far the page scrolls sideways (0: not at all)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def nav_rows(page) -> int:
    """How many rows the portal's navigation links take."""
    return page.evaluate(
        """() => new Set(Array.from(document.querySelectorAll('.portal-nav a'))
                 .map(a => Math.round(a.getBoundingClientRect().top))).size"""
    )


def test_no_page_scrolls_sideways_on_a_phone(
    pages, alice, agent, manager, resolved, vpn_known_error
):
    # A home with all it can show: devices with long serial numbers, waiting tickets,
    # requests, approvals, known issues, the catalogue.
    for n in range(3):
        deployed(
            agent,
            f"LT-{1000 + n}",
            user=alice,
            model="ThinkPad X1 Carbon Gen 11 (Intel Core i7-1365U vPro)",
            serial_number=f"PF-4XK-{n}-2024-000000000000000{n}",
        )
    item = factories.laptop_item(name="A rather long catalogue item name for a phone screen")
    req = catalogue.submit_request(alice, item, {"model": "mac"})
    services.update_incident(
        factories.incident(alice, actor=agent, title="Averyveryverylongwordwithoutanyspaces" * 3),
        agent,
        {"state": "on_hold", "on_hold_reason": "awaiting_caller"},
    )
    knowledge.publish(
        knowledge.submit(
            knowledge.create_article(
                agent,
                {
                    "title": "Connect to the VPN",
                    "body": "Open the client.",
                    "category": KnowledgeCategory.objects.create(name="VPN"),
                    "audience": "portal",
                },
            ),
            agent,
        ),
        manager,
    )
    portal = pages.signed_in("alice", **PHONE)
    expect(portal.get_by_role("heading", name="My devices")).to_be_visible()
    assert sideways(portal) <= 0
    assert nav_rows(portal) == 1
    header = portal.locator(".portal-top").bounding_box()
    assert header["height"] < 110, header  # brand and account, then the one row of links
    # Every link of the navigation can be reached: the row scrolls within itself.
    last = portal.locator(".portal-nav a").last
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    assert sideways(portal) <= 0
    # The devices stack into cards, each value labelled.
    cell = portal.locator(".my-devices td").first
    assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"Asset tag"'

    for path in (
        "/portal/issues/new/",
        f"/portal/issues/{resolved.number}/",
        f"/portal/requests/{req.number}/",
        "/portal/catalogue/",
        f"/portal/catalogue/{item.pk}/",
        "/portal/approvals/",
        "/portal/knowledge/",
        "/portal/known-errors/",
        f"/portal/known-errors/{vpn_known_error.number}/",
        "/preferences/",
    ):
        portal.goto(path)
        assert sideways(portal) <= 0, path
        if portal.locator(".portal-nav").count():
            assert nav_rows(portal) == 1, path
            current = portal.locator(".portal-nav a[aria-current=page]")
            if current.count():  # the row scrolls to show where one is
                expect(current).to_be_in_viewport()


def test_report_with_urgency_and_a_screenshot(pages, alice, priority_matrix):
    portal = pages.signed_in("alice")
    portal.get_by_role("link", name=re.compile(r"^Report an issue")).first.click()
    portal.get_by_label("What is wrong?").fill("Printer shows error E-42")
    portal.get_by_label("Details").fill("Since this morning, on the 3rd floor.")
    portal.get_by_label("How urgent is it?").select_option(
        label="High: I cannot work, or many people are affected"
    )
    portal.get_by_label("Screenshots or files").set_input_files(
        [
            {"name": "printer.png", "mimeType": "image/png", "buffer": PNG},
            {"name": "log.txt", "mimeType": "text/plain", "buffer": b"E-42 at 09:12"},
        ]
    )
    portal.get_by_role("button", name="Send", exact=True).click()
    expect(portal.get_by_role("status")).to_contain_text("we have logged your issue as INC")
    incident = Incident.objects.get()
    assert (incident.urgency, incident.title) == (1, "Printer shows error E-42")
    names = set(Attachment.objects.filter(object_id=incident.pk).values_list("filename", flat=True))
    assert names == {"printer.png", "log.txt"}
    expect(portal.get_by_role("link", name="printer.png")).to_be_visible()


def test_a_file_over_the_limit_is_refused_and_the_text_kept(pages, settings, alice):
    settings.ATTACHMENT_MAX_BYTES = 50
    portal = pages.signed_in("alice")
    portal.goto("/portal/issues/new/")
    portal.get_by_label("What is wrong?").fill("Scanner jams")
    portal.get_by_label("Screenshots or files").set_input_files(
        {"name": "big.png", "mimeType": "image/png", "buffer": PNG * 2}
    )
    portal.get_by_role("button", name="Send", exact=True).click()
    expect(portal.locator(".field.has-error")).to_contain_text("big.png: The file is")
    expect(portal.get_by_label("What is wrong?")).to_have_value("Scanner jams")
    assert not Incident.objects.exists()


def test_the_draft_survives_a_suggestion_and_the_way_back(pages, alice, vpn_known_error):
    portal = pages.signed_in("alice")
    portal.goto("/portal/issues/new/")
    portal.get_by_label("What is wrong?").press_sequentially("vpn drops idle", delay=30)
    portal.get_by_label("Details").fill("Every time I leave for lunch.")
    portal.get_by_label("How urgent is it?").select_option("2")
    suggestion = portal.get_by_role("region", name="Suggestions").get_by_role(
        "link", name="VPN drops when idle"
    )
    suggestion.click()
    expect(portal.get_by_role("heading", name="Did this solve your problem?")).to_be_visible()

    # The browser's back button: everything typed is there again.
    portal.go_back()
    expect(portal.get_by_label("What is wrong?")).to_have_value("vpn drops idle")
    expect(portal.get_by_label("Details")).to_have_value("Every time I leave for lunch.")
    expect(portal.get_by_label("How urgent is it?")).to_have_value("2")

    # "No, continue my report" too, even when the page is loaded anew.
    portal.get_by_role("region", name="Suggestions").get_by_role(
        "link", name="VPN drops when idle"
    ).click()
    portal.get_by_role("link", name="No, continue my report").click()
    expect(portal.get_by_label("Details")).to_have_value("Every time I leave for lunch.")
    expect(portal.get_by_label("How urgent is it?")).to_have_value("2")
    expect(portal.get_by_text("We kept what you typed before.")).to_be_visible()

    # It solved it after all: thanks, nothing reported, and the draft is gone.
    portal.get_by_role("region", name="Suggestions").get_by_role(
        "link", name="VPN drops when idle"
    ).click()
    portal.get_by_role("button", name=re.compile("^Yes, this solved it")).click()
    expect(portal).to_have_url(re.compile(r"/portal/$"))
    expect(portal.get_by_role("status")).to_contain_text("Glad it helped!")
    assert KnownErrorDeflection.objects.filter(problem=vpn_known_error, user=alice).count() == 1
    assert not Incident.objects.exists()
    portal.goto("/portal/issues/new/")
    expect(portal.get_by_label("Details")).to_have_value("")


def test_sending_the_report_forgets_the_draft(pages, alice, priority_matrix):
    portal = pages.signed_in("alice")
    portal.goto("/portal/issues/new/")
    portal.get_by_label("What is wrong?").fill("Keyboard missing keys")
    portal.get_by_label("Details").fill("The E key.")
    portal.get_by_role("button", name="Send", exact=True).click()
    expect(portal.get_by_role("status")).to_contain_text("we have logged your issue")
    portal.goto("/portal/issues/new/")
    expect(portal.get_by_label("What is wrong?")).to_have_value("")
    expect(portal.get_by_label("Details")).to_have_value("")
