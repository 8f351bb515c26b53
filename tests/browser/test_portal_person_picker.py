"""A catalogue question about a person, on the portal: picked by name as the employee
types (among the people they may see), posting the username."""

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from catalogue.models import CatalogueCategory, CatalogueItem, ServiceRequest, Variable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_orders_for_a_colleague_picked_by_name(pages, agent, alice):
    shelf = CatalogueCategory.objects.create(name="Access")
    item = CatalogueItem.objects.create(name="Shared folder", category=shelf)
    Variable.objects.create(item=item, name="folder", label="Folder", type="text", required=True)
    page = pages.signed_in("agent")
    page.goto(f"/portal/catalogue/{item.pk}/")
    page.get_by_label("Folder").fill(r"\\files\finance")
    box = page.get_by_role("combobox", name="For someone else")
    box.press_sequentially("Alic", delay=20)
    option = page.get_by_role("option", name="Alice")
    expect(option.first).to_be_visible()
    box.press("ArrowDown")
    box.press("Enter")
    page.get_by_role("button", name="Order").click()
    expect(page.get_by_role("status").first).to_be_visible()
    assert ServiceRequest.objects.get(item=item).requested_for == alice
