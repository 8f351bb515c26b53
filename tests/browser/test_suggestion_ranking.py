"""Suggestions through a real browser: an employee typing "VPN drops when idle" on the
portal's report form sees the exact known issue first, above the VPN articles that only
share a word or two with it (issue 11: it used to come last)."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from practices.knowledge import services as knowledge
from practices.knowledge.models import KnowledgeCategory
from tests.problems.conftest import known_error

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def vpn_help(agent, manager, service_desk):
    category = KnowledgeCategory.objects.create(name="VPN")
    for title, body in (
        ("Connect to the VPN", "Install the client. The VPN drops after 12 hours: connect again."),
        ("Wi-Fi is slow or drops", "Forget the network and join it again."),
    ):
        article = knowledge.create_article(
            agent, {"title": title, "body": body, "category": category, "audience": "portal"}
        )
        knowledge.publish(knowledge.submit(article, agent), manager)
    return known_error(
        agent,
        service_desk,
        title="VPN sessions drop after 10 minutes idle",
        workaround="Untick 'Disconnect when idle' in the VPN client's settings.",
        public=True,
    )


def test_the_exact_known_issue_is_suggested_first(pages, alice, vpn_help):
    portal = pages.signed_in("alice")
    portal.get_by_role("link", name=re.compile(r"^Report an issue")).first.click()
    portal.get_by_label("What is wrong?").press_sequentially("VPN drops when idle", delay=40)
    suggestions = portal.get_by_role("region", name="Suggestions")
    expect(suggestions.get_by_role("link", name="Connect to the VPN")).to_be_visible()
    links = suggestions.get_by_role("link")
    expect(links.first).to_have_text(re.compile("VPN sessions drop after 10 minutes idle"))
