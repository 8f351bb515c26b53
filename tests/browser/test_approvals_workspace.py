"""A manager approves from the agent workspace with the request in front of them: the
navigation shows how many approvals wait, the inbox shows the answers, and approving
starts fulfilment."""

import re
from decimal import Decimal

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from catalogue import services
from catalogue.models import (
    ApprovalLevel,
    CatalogueCategory,
    CatalogueItem,
    FulfilmentTask,
    ServiceRequest,
    TaskTemplate,
    Variable,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def waiting(alice, manager, service_desk, network_team):
    alice.manager = manager
    alice.save()
    item = CatalogueItem.objects.create(
        name="New laptop", category=CatalogueCategory.objects.create(name="Hardware"), cost=1400
    )
    Variable.objects.create(
        item=item,
        name="model",
        label="Model",
        type="choice",
        required=True,
        order=1,
        choices=[{"value": "mac", "label": "MacBook Air"}, {"value": "thinkpad"}],
    )
    Variable.objects.create(
        item=item, name="old_tag", label="Asset tag of the old laptop", type="text", order=2
    )
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    TaskTemplate.objects.create(item=item, stage=1, title="Order the laptop", team=service_desk)
    TaskTemplate.objects.create(item=item, stage=1, title="Open the VPN", team=network_team)
    return services.submit_request(alice, item, {"model": "mac", "old_tag": "AT-1001"})


def test_a_manager_approves_from_the_workspace(pages, waiting, manager):
    page = pages.signed_in("manager", width=1440, height=900)
    page.goto("/fulfilment/")
    approvals = page.locator(".sidebar").get_by_role("link", name=re.compile("Approvals"))
    expect(approvals.locator(".nav-count")).to_have_text("1")  # loaded after the page
    approvals.click()
    expect(page.get_by_role("heading", name=re.compile("Approvals"))).to_be_visible()

    card = page.locator(".approval-card")
    expect(card).to_have_count(1)
    expect(card.get_by_role("link", name=waiting.number)).to_have_attribute(
        "href", f"/fulfilment/requests/{waiting.number}/"
    )
    expect(card).to_contain_text("Alice")
    answers = card.locator("dl.answers")
    expect(answers).to_contain_text("Model")
    expect(answers).to_contain_text("MacBook Air")
    expect(answers).to_contain_text("Asset tag of the old laptop")
    expect(answers).to_contain_text("AT-1001")
    expect(card.locator(".approval-cost")).to_have_text(str(Decimal("1400.00")))

    card.get_by_role("button", name=f"Approve {waiting.number}").click()
    expect(page.get_by_text(f"{waiting.number} approved.")).to_be_visible()
    expect(page.get_by_text("Nothing waits for your approval.")).to_be_visible()
    expect(page.locator(".sidebar .nav-count")).to_have_count(0)

    waiting.refresh_from_db()
    assert waiting.state == "in_fulfilment"
    assert FulfilmentTask.objects.filter(request=waiting).count() == 2

    # The request moves on: its page lists the tasks for the teams.
    page.goto(f"/fulfilment/requests/{waiting.number}/")
    expect(page.locator(".facts .badge").first).to_have_text("In fulfilment")
    for task in FulfilmentTask.objects.filter(request=waiting):
        expect(page.get_by_role("link", name=task.number)).to_be_visible()
    assert ServiceRequest.objects.get(pk=waiting.pk).approvals.get().decision == "approved"

    # On a phone the inbox (with what was decided) does not scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/fulfilment/approvals/")
    expect(page.get_by_role("heading", name="Decided by you recently")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
