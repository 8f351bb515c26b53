"""A service request through a real browser: an employee orders an item whose form has a
conditional question, the manager approves in the portal, two teams close their tasks in
the workspace, and the employee sees the request fulfilled."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

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
def laptop(alice, manager, service_desk, network_team):
    alice.manager = manager
    alice.save()
    category = CatalogueCategory.objects.create(name="Hardware")
    item = CatalogueItem.objects.create(
        name="New laptop", category=category, short_description="A laptop for work."
    )
    Variable.objects.create(
        item=item,
        name="model",
        label="Model",
        type="choice",
        required=True,
        order=1,
        choices=[{"value": "mac", "label": "MacBook"}, {"value": "thinkpad", "label": "ThinkPad"}],
    )
    Variable.objects.create(
        item=item, name="replace", label="Does it replace a laptop?", type="boolean", order=2
    )
    Variable.objects.create(
        item=item,
        name="old_tag",
        label="Asset tag of the old laptop",
        type="text",
        required=True,
        order=3,
        show_when={"variable": "replace", "equals": True},
    )
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    TaskTemplate.objects.create(item=item, stage=1, title="Order the laptop", team=service_desk)
    TaskTemplate.objects.create(
        item=item, stage=1, title="Prepare the VPN profile", team=network_team
    )
    return item


def test_order_approve_fulfil_and_see_it_done(pages, laptop, alice, manager, agent, agent2):
    # The employee orders; the conditional question appears only when it applies.
    portal = pages.signed_in("alice")
    portal.get_by_role("link", name="Request something").first.click()
    portal.get_by_role("link", name=re.compile("New laptop")).first.click()
    old_tag = portal.get_by_label("Asset tag of the old laptop")
    expect(old_tag).to_be_hidden()
    portal.get_by_label("MacBook").check()
    portal.get_by_role("group", name=re.compile("Does it replace a laptop")).get_by_label(
        "Yes"
    ).check()
    expect(old_tag).to_be_visible()
    portal.get_by_role("button", name="Order").click()
    # Shown and required: the browser or the server asks for it before anything is saved.
    assert not ServiceRequest.objects.exists()
    old_tag.fill("AT-00042")
    portal.get_by_role("button", name="Order").click()
    expect(portal.get_by_role("heading", name="New laptop")).to_be_visible()
    request = ServiceRequest.objects.get()
    assert request.variables == {"model": "mac", "replace": True, "old_tag": "AT-00042"}
    expect(portal.locator(".facts .badge")).to_have_text("Awaiting approval")

    # The manager approves in the portal.
    approver = pages.signed_in("manager")
    approver.goto("/portal/approvals/")
    approver.get_by_role("button", name="Approve").first.click()
    request.refresh_from_db()
    assert request.state == "in_fulfilment"

    # Two teams close their tasks in the workspace.
    for username, title in (("agent", "Order the laptop"), ("agent2", "Prepare the VPN profile")):
        desk = pages.signed_in(username)
        task = FulfilmentTask.objects.get(title__startswith=title)
        desk.goto(f"/fulfilment/tasks/{task.number}/")
        desk.get_by_role("button", name="Close", exact=True).click()
        task.refresh_from_db()
        assert task.state == "closed"

    # The employee sees it fulfilled.
    portal.reload()
    expect(portal.locator(".facts .badge")).to_have_text("Fulfilled")
    expect(portal.get_by_role("heading", name="Your request is fulfilled")).to_be_visible()


def test_catalogue_and_order_form_fit_a_phone_and_work_by_keyboard(pages, laptop, alice):
    phone = pages.signed_in("alice", width=390, height=844)
    for path in (
        "/portal/",
        "/portal/catalogue/",
        f"/portal/catalogue/{laptop.pk}/",
        "/portal/approvals/",
    ):
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide"
    # Keyboard only: Tab to the first choice, Space picks it, Enter on Order submits.
    phone.goto(f"/portal/catalogue/{laptop.pk}/")
    phone.get_by_label("MacBook").focus()
    phone.keyboard.press("Space")
    expect(phone.get_by_label("MacBook")).to_be_checked()
    phone.get_by_role("button", name="Order").focus()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", name="New laptop")).to_be_visible()
    assert ServiceRequest.objects.get().variables["model"] == "mac"
