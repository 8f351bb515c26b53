"""The header's search in a real browser: an agent types a problem's number and Enter
opens it; types part of a CI's name and picks it from the drop-down with the keyboard."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from tests import factories
from tests.problems.conftest import make_problem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_header_search_opens_a_problem_by_number_and_finds_a_ci(pages, agent, service_desk):
    problem = make_problem(agent, title="Storage latency spikes", assignment_group=service_desk)
    factories.ci("esx-ber-01", class_key="server")
    page = pages.signed_in("agent")

    # "/" focuses the search from anywhere; the number is offered first, Enter opens it.
    page.keyboard.press("/")
    box = page.get_by_role("combobox", name="Search everything")
    expect(box).to_be_focused()
    box.press_sequentially(problem.number.lower(), delay=10)
    exact = page.locator("#quick-results").get_by_role("option", name=re.compile("Go to"))
    expect(exact).to_contain_text(problem.number)
    expect(exact).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/problems/{problem.number}/$"))
    expect(page.get_by_role("heading", name=re.compile("Storage latency spikes"))).to_be_visible()

    # Part of a CI's name: the CI is listed with its status; arrow down and Enter open it.
    box = page.get_by_role("combobox", name="Search everything")
    box.click()
    box.press_sequentially("esx-b", delay=10)
    option = page.locator("#quick-results").get_by_role("option", name=re.compile("esx-ber-01"))
    expect(option).to_contain_text("Live")
    expect(page.locator("#quick-results")).to_contain_text("Configuration items")
    box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("esx-ber-01"))).to_be_visible()

    # Escape closes the results; Enter with nothing chosen lists every result.
    box = page.get_by_role("combobox", name="Search everything")
    box.click()
    box.press_sequentially("latency", delay=10)
    expect(page.locator("#quick-results [role=option]").first).to_be_visible()
    box.press("Escape")
    expect(page.locator("#quick-results [role=option]")).to_have_count(0)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=latency"))
    expect(page.get_by_role("link", name="Storage latency spikes")).to_be_visible()
