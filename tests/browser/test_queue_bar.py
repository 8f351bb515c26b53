"""The queue's bar in a real browser: it says how many match as the agent filters, and a
column the agent hides stays hidden after a reload and after filtering."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from incidents import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_count_follows_the_filters_and_hidden_columns_stay_hidden(pages, alice, agent):
    for title in ("Mail down", "Mouse squeaks", "VPN drops"):
        services.open_incident(agent, {"title": title, "caller": alice})
    desk = pages.signed_in("agent")
    desk.goto("/incidents/")
    count = desk.locator(".list-count")
    expect(count).to_have_text("3 incidents")
    caller = desk.locator("#queue thead th", has_text="Caller")
    expect(caller).to_be_visible()

    desk.locator(".columns-menu summary").click()
    desk.locator(".columns-menu label", has_text="Caller").locator("input").uncheck()
    expect(caller).to_be_hidden()
    expect(desk.locator(".columns-menu summary")).to_have_text("Columns")  # not a filter count
    expect(desk.locator("#queue tbody tr[data-href] td:nth-child(6)").first).to_be_hidden()

    desk.reload()
    expect(desk.locator("#queue thead th", has_text="Caller")).to_be_hidden()
    desk.locator("#id_search").press_sequentially("Mouse")
    expect(count).to_have_text("1 incident")
    expect(desk.locator("#queue thead th", has_text="Caller")).to_be_hidden()
    expect(desk.locator("#queue thead th", has_text="Title")).to_be_visible()
    expect(desk.locator(".columns-menu summary")).to_have_text(re.compile(r"^Columns$"))
