"""A person's date format in a real browser: an agent who reads dates as day/month/year
gets a text box in that format instead of Chromium's picker (which follows the browser's
language), types a date in it and sees it saved and shown back the same way."""

from datetime import date

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from practices.assets.models import Asset
from tests.assets.helpers import make_asset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_types_a_date_in_their_own_format(pages, agent):
    agent.date_format = "dmy"
    agent.save()
    make_asset(agent, "AT-1", purchase_date=date(2024, 5, 1))
    page = pages.signed_in("agent")
    page.goto("/assets/AT-1/")
    bought = page.locator("input[name=purchase_date]")
    expect(bought).to_have_attribute("type", "text")
    expect(bought).to_have_value("01/05/2024")
    warranty = page.locator("input[name=warranty_end]")
    expect(warranty).to_have_attribute("placeholder", "DD/MM/YYYY")
    warranty.fill("31/12/2027")
    warranty.press("Control+s")
    expect(page.get_by_role("status")).to_contain_text("saved")
    expect(page.locator("input[name=warranty_end]")).to_have_value("31/12/2027")
    assert Asset.objects.get(asset_tag="AT-1").warranty_end == date(2027, 12, 31)
