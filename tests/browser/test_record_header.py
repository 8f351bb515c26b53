"""A record's header at 1440 px: the state buttons stay at the top right beside the title,
whatever the title's length and whatever the state (they used to jump below the title
after some transitions, when the title, badges and buttons no longer fitted on a line)."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from incidents import services
from problems import services as problem_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: As long as a title may be (200 characters).
LONG_TITLE = (
    "Every laptop on the third floor loses its Wi-Fi connection several times an hour "
    "since the access points were upgraded, and the VPN client then asks for the token "
    "again, which breaks all calls"
)
assert len(LONG_TITLE) <= 200


def header(page) -> dict:
    """Where the title and the buttons are drawn, in page pixels."""
    return page.evaluate(
        """() => {
          const head = document.querySelector('.record-head');
          const h1 = head.querySelector('h1').getBoundingClientRect();
          const buttons = head.querySelector('.state-actions').getBoundingClientRect();
          const box = head.getBoundingClientRect();
          return {offset: buttons.top - box.top, h1Top: h1.top, h1Bottom: h1.bottom, h1Right: h1.right,
                  top: buttons.top, left: buttons.left, right: buttons.right,
                  headRight: box.right, scrollWidth: document.documentElement.scrollWidth,
                  width: window.innerWidth};
        }"""
    )


def assert_buttons_top_right(at: dict):
    assert at["top"] < at["h1Bottom"], at  # beside the title, not below it
    assert abs(at["right"] - at["headRight"]) <= 1, at  # at the right edge
    assert at["h1Right"] <= at["left"], at  # the title stays in its column
    assert at["scrollWidth"] <= at["width"], at  # nothing scrolls sideways


def test_the_incident_buttons_stay_put_through_transitions(pages, agent, alice, service_desk):
    incident = services.open_incident(
        agent, {"title": LONG_TITLE, "caller": alice, "assignment_group": service_desk}
    )
    desk = pages.signed_in("agent", width=1440, height=900)
    desk.goto(f"/incidents/{incident.number}/")
    expect(desk.get_by_role("heading", name=LONG_TITLE)).to_be_visible()
    before = header(desk)
    assert_buttons_top_right(before)
    # Through two transitions (a new state offers other buttons, more badges and facts).
    for _ in range(2):
        badge = desk.locator(".facts .badge[class*='state-']").inner_text()
        desk.locator(".record-head .state-actions form button").first.click()
        expect(desk.locator(".facts .badge[class*='state-']")).not_to_have_text(badge)
        after = header(desk)
        assert_buttons_top_right(after)
        # At the same height in the header (a message above it may move the whole header).
        assert after["offset"] == pytest.approx(before["offset"], abs=1)


def test_the_problem_buttons_stay_beside_a_long_title(pages, agent):
    problem = problem_services.open_problem(agent, {"title": LONG_TITLE})
    desk = pages.signed_in("agent", width=1440, height=900)
    desk.goto(f"/problems/{problem.number}/")
    expect(desk.get_by_role("heading", name=re.compile("^Every laptop"))).to_be_visible()
    assert_buttons_top_right(header(desk))
