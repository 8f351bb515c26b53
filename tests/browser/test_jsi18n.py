"""The scripts speak the person's language in a real browser: the JavaScript catalogue
(/jsi18n/) loads before them under the Content-Security-Policy (no eval, its nonce), on the
sign-in page too, and a German agent reads German where a script writes the text."""

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from incidents import services
from tests.browser.conftest import sign_in
from tests.core.test_i18n import compiled_javascript_catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Installed before the page's scripts (Playwright's init scripts are exempt from the CSP).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolation({directive: event.effectiveDirective, blocked: event.blockedURI,
                         page: location.pathname});
});
"""


def watched(pages, problems):
    """A page whose CSP violations, console errors and script errors land in ``problems``."""
    page = pages.new()
    page.context.expose_binding("__cspViolation", lambda source, v: problems.append(v))
    page.context.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda m: m.type == "error" and problems.append({"console": m.text}))
    page.on("pageerror", lambda error: problems.append({"script": str(error)}))
    return page


def test_a_german_agent_reads_the_scripts_in_german_under_the_csp(pages, alice, agent):
    compiled_javascript_catalogue()
    agent.language = "de"
    agent.save(update_fields=["language"])
    for title in ("Mail down", "VPN drops"):
        services.open_incident(agent, {"title": title, "caller": alice})
    problems = []
    desk = watched(pages, problems)
    # The sign-in page (nobody signed in yet: the browser's English) has the catalogue.
    desk.goto("/login/")
    assert desk.evaluate("typeof window.gettext") == "function"
    assert desk.evaluate("gettext('Contact card')") == "Contact card"
    sign_in(desk, "agent")
    desk.goto("/incidents/")
    assert desk.evaluate("gettext('Contact card')") == "Kontaktkarte"
    # A text app.js writes: the bulk bar's count.
    desk.locator("#queue input[name=numbers]").nth(0).check()
    expect(desk.locator("[data-selected-count]")).to_have_text("1 ausgewählt")
    desk.locator("#queue input[name=numbers]").nth(1).check()
    expect(desk.locator("[data-selected-count]")).to_have_text("2 ausgewählt")
    # One pickers.js writes: a reference picker's placeholder on the new incident form.
    desk.goto("/incidents/new/")
    placeholders = desk.locator("input.picker-input").evaluate_all(
        "boxes => boxes.map(box => box.placeholder)"
    )
    assert "Zum Suchen tippen …" in placeholders, placeholders
    assert "Type to search…" not in placeholders
    assert problems == []
