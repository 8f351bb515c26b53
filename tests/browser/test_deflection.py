"""Deflection through a real browser: an employee starts reporting an issue, a published
article is suggested while they type the title, and it solves the problem (no ticket) or
does not (back to the report, title kept)."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from incidents.models import Incident
from practices.knowledge import services as knowledge
from practices.knowledge.models import Deflection, KnowledgeCategory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def vpn_article(agent, manager):
    category = KnowledgeCategory.objects.create(name="VPN")
    article = knowledge.create_article(
        agent,
        {
            "title": "VPN keeps disconnecting",
            "summary": "Switch the client to TCP.",
            "body": "Open the VPN client, choose **TCP** and connect again.",
            "category": category,
            "audience": "portal",
        },
    )
    article = knowledge.submit(article, agent)
    return knowledge.publish(article, manager)


def type_title(page, text):
    page.get_by_role("link", name=re.compile(r"^Report an issue")).first.click()
    title = page.get_by_label("What is wrong?")
    title.press_sequentially(text, delay=40)
    return page.get_by_role("region", name="Suggestions")


def test_a_suggested_article_solves_it(pages, alice, vpn_article):
    portal = pages.signed_in("alice")
    suggestions = type_title(portal, "vpn disconn")
    expect(suggestions.get_by_role("link", name="VPN keeps disconnecting")).to_be_visible()
    suggestions.get_by_role("link", name="VPN keeps disconnecting").click()

    expect(portal.get_by_role("heading", name="Did this solve your problem?")).to_be_visible()
    expect(portal.locator("strong", has_text="TCP")).to_be_visible()  # Markdown rendered
    portal.get_by_role("button", name="Yes, I don't need to report it").click()
    expect(portal).to_have_url(re.compile(r"/portal/$"))
    assert Deflection.objects.filter(article=vpn_article, user=alice).count() == 1
    assert Deflection.objects.get().query == "vpn disconn"
    assert not Incident.objects.exists()


def test_back_to_the_report_when_it_does_not_help(pages, alice, vpn_article):
    portal = pages.signed_in("alice")
    suggestions = type_title(portal, "vpn disconnects at home")
    suggestions.get_by_role("link", name="VPN keeps disconnecting").click()
    portal.get_by_role("link", name="No, continue my report").click()
    expect(portal.get_by_label("What is wrong?")).to_have_value("vpn disconnects at home")
    portal.get_by_role("button", name="Send", exact=True).click()
    expect(portal.get_by_role("status")).to_contain_text("we have logged your issue as INC")
    assert not Deflection.objects.exists()
    assert Incident.objects.get().title == "vpn disconnects at home"
