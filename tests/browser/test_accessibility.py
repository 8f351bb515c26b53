"""Accessibility in a real browser: axe-core (vendored under static/vendor/axe-core/) scans
the main pages of the workspace and the portal in the light and the dark theme and finds
no serious or critical WCAG 2.2 A/AA violation; every control is reached by Tab and shows
a focus ring; on a phone the workspace never scrolls sideways and its top bar keeps to
two rows; compact density fits about thirty queue rows on a laptop screen."""

import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("playwright.sync_api")
from django.conf import settings
from playwright.sync_api import expect

from itsm.accounts.models import User
from practices.service_level.models import BusinessCalendar
from tests import factories
from tests.problems.conftest import known_error
from tests.service_level.conftest import agreement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js"
AXE_SOURCE = AXE.read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def records(agent, alice, service_desk, priority_matrix, make_change, standard_model, window):
    # An agreement, so the queues and the incident carry SLA badges.
    always = BusinessCalendar.objects.create(name="24x7", always_open=True)
    agreement("Standard", always, response=timedelta(minutes=30), resolution=timedelta(hours=4))
    incident = factories.incident(
        alice, actor=agent, title="Mail is down", assignment_group=service_desk
    )
    issue = factories.incident(alice, title="The printer jams on the third floor")
    problem = known_error(agent, service_desk, public=True, title="Mail relay drops connections")
    ci = factories.ci("Mail server")
    item = factories.laptop_item()
    change = make_change(
        title="Upgrade the mail server",
        configuration_items=[ci],
        planned_start=window[0],
        planned_end=window[1],
        implementation_plan="Patch, reboot, check the queues.",
    )
    make_change(  # a second change on the same CI and window: a conflict on both
        title="Move the mail server's disks",
        model=standard_model,
        configuration_items=[ci],
        planned_start=window[0],
        planned_end=window[1],
    )
    return SimpleNamespace(
        incident=incident, issue=issue, problem=problem, ci=ci, item=item, change=change
    )


def agent_pages(records):
    return {
        "My work": "/work/",
        "incident queue": "/incidents/",
        "an incident": f"/incidents/{records.incident.number}/",
        "new incident": "/incidents/new/",
        "problem queue": "/problems/",
        "a problem": f"/problems/{records.problem.number}/",
        "fulfilment queue": "/fulfilment/",
        "approvals": "/fulfilment/approvals/",
        "CMDB": "/cmdb/",
        "a CI": f"/cmdb/{records.ci.pk}/",
        "search results": "/search/?q=mail",
        "knowledge": "/knowledge/",
        "preferences": "/me/",
        "service requests": "/fulfilment/requests/",
        "known error database": "/problems/known-errors/",
        "assets": "/assets/",
        "licence compliance": "/assets/licences/",
        "service level report": "/service-levels/",
        "practice map": "/practices/",
        "change queue": "/changes/",
        "a change": f"/changes/{records.change.number}/",
        "new change": "/changes/new/",
        "change calendar": f"/changes/calendar/?date={records.change.planned_start:%Y-%m-%d}",
        "standard changes": "/changes/templates/",
        "CAB meetings": "/changes/cab/",
        "releases": "/releases/",
        "deployments": "/deployments/",
    }


def portal_pages(records):
    return {
        "portal home": "/portal/",
        "report an issue": "/portal/issues/new/",
        "an issue": f"/portal/issues/{records.issue.number}/",
        "catalogue": "/portal/catalogue/",
        "an item's order form": f"/portal/catalogue/{records.item.pk}/",
        "known issues": "/portal/known-errors/",
        "preferences": "/me/",
    }


def set_theme(username, theme, density="comfortable"):
    User.objects.filter(username=username).update(theme=theme, density=density)


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it stands."""
    page.wait_for_load_state("networkidle")
    # Evaluated through the browser's debugging protocol, which the page's
    # Content-Security-Policy does not govern: an injected <script> tag would be refused
    # (no inline script, no nonce), and the scan must see the page as served.
    page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: tags, resultTypes: ['violations']})", AXE_TAGS
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def describe(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}) {v['help']}")
            for node in v["nodes"][:6]:
                summary = (node.get("failureSummary") or "").replace("\n", " ")
                lines.append(f"    {json.dumps(node['target'])} {summary[:220]}")
    return "\n".join(lines)


def scan(page, urls: dict[str, str], theme: str) -> dict[str, list[dict]]:
    found = {}
    for name, url in urls.items():
        response = page.goto(url)
        assert response.status == 200, (name, url, response.status)
        assert page.locator("html").get_attribute("data-theme") == theme
        violations = axe_violations(page)
        if violations:
            found[f"{name} {url} [{theme}]"] = violations
        # The page's dialogs, open one at a time.
        for opener in page.locator("[data-open-dialog]:visible").all():
            dialog = page.locator(f"#{opener.get_attribute('data-open-dialog')}")
            opener.click()
            expect(dialog).to_be_visible()
            violations = axe_violations(page)
            if violations:
                found[f"{name} {url}, dialog {opener.inner_text()} [{theme}]"] = violations
            page.keyboard.press("Escape")
            expect(dialog).to_be_hidden()
    return found


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_the_workspace(pages, records, agent, theme):
    set_theme("agent", theme)
    page = pages.signed_in("agent", width=1440, height=900)
    found = scan(page, agent_pages(records), theme)
    assert not found, "axe-core violations:\n" + describe(found)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_the_portal(pages, records, alice, theme):
    set_theme("alice", theme)
    page = pages.signed_in("alice")
    found = scan(page, portal_pages(records), theme)
    # The portal on a phone, too (its navigation scrolls, its menus fold).
    phone = pages.signed_in("alice", **PHONE)
    found |= scan(phone, {"portal home (phone)": "/portal/"}, theme)
    assert not found, "axe-core violations:\n" + describe(found)


def test_the_dark_theme_darkens_workspace_portal_and_badges(pages, records, agent, alice):
    def background(page, selector):
        return page.locator(selector).first.evaluate(
            "el => { const c = getComputedStyle(el).backgroundColor.match(/\\d+/g).map(Number);"
            " return (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255; }"
        )

    page = pages.signed_in("agent")
    page.goto("/incidents/")
    assert background(page, "body") > 0.8
    set_theme("agent", "dark")
    page.goto("/incidents/")
    assert background(page, "body") < 0.15
    assert background(page, ".grid") < 0.2
    page.goto(f"/incidents/{records.incident.number}/")
    assert background(page, ".panel") < 0.2
    # "As my device": dark when the device prefers it, light when not.
    set_theme("alice", "system")
    portal = pages.signed_in("alice")
    portal.emulate_media(color_scheme="dark")
    portal.goto("/portal/")
    assert background(portal, "body") < 0.15
    assert background(portal, ".portal-top") < 0.2
    portal.emulate_media(color_scheme="light")
    portal.goto("/portal/")
    assert background(portal, "body") > 0.8


def focus_report(page, presses: int) -> dict:
    """Tab through the page; for each stop, whether a focus ring is drawn."""
    page.locator("body").focus()
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    stops = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        stops.append(
            page.evaluate(
                """() => {
                  const el = document.activeElement;
                  if (!el || el === document.body) return null;
                  const s = getComputedStyle(el);
                  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
                                && s.outlineColor !== 'rgba(0, 0, 0, 0)')
                               || (s.boxShadow && s.boxShadow !== 'none');
                  if (!el.dataset.a11yId) el.dataset.a11yId = Math.random().toString(36).slice(2);
                  return {id: el.dataset.a11yId, ring: ring,
                          what: el.outerHTML.slice(0, 120)};
                }"""
            )
        )
    return {stop["id"]: stop for stop in stops if stop}


#: The controls Tab should stop at (one radio a group: arrows move within it).
CONTROLS = """() => [...document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'
)].filter(el => !el.disabled && el.getAttribute('tabindex') !== '-1' && el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden'
  && !el.closest('details:not([open]) > :not(summary)') && !el.closest('dialog:not([open])')
  && (el.type !== 'radio' || el.checked || !(el.form || document).querySelector(
       `input[type=radio][name="${el.name}"]:checked`) && (el.form || document).querySelector(
       `input[type=radio][name="${el.name}"]`) === el)
).map(el => { if (!el.dataset.a11yId) el.dataset.a11yId = Math.random().toString(36).slice(2);
  return {id: el.dataset.a11yId, what: el.outerHTML.slice(0, 120)}; })"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_control_is_reached_by_tab_with_a_visible_focus_ring(pages, records, theme):
    set_theme("agent", theme)
    set_theme("alice", theme)
    agent = pages.signed_in("agent")
    alice = pages.signed_in("alice")
    for page, url in [
        (agent, f"/incidents/{records.incident.number}/"),
        (agent, "/incidents/new/"),
        (alice, "/portal/"),
        (alice, "/portal/issues/new/"),
    ]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        controls = page.evaluate(CONTROLS)
        reached = focus_report(page, len(controls) + 10)
        missed = [c["what"] for c in controls if c["id"] not in reached]
        assert not missed, f"{url} [{theme}]: not reached by Tab: {missed}"
        ringless = [s["what"] for s in reached.values() if not s["ring"]]
        assert not ringless, f"{url} [{theme}]: no focus ring on {ringless}"


def sideways(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def overflowing(page) -> list[str]:
    """The outermost elements that stick out past the right edge of the window."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
                        && el.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
          .map(el => el.outerHTML.slice(0, 100))"""
    )


def topbar_rows(page) -> int:
    tops = page.evaluate(
        """() => [...document.querySelectorAll('.topbar .brand, .topbar .quick-search, .topbar .user-menu > *')]
          .filter(el => el.getClientRects().length)
          .map(el => Math.round(el.getBoundingClientRect().top))"""
    )
    rows = []
    for top in sorted(tops):
        if not rows or top - rows[-1] > 12:
            rows.append(top)
    return len(rows)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_workspace_fits_a_phone(pages, records, agent, service_desk, theme):
    for n in range(4):
        factories.incident(
            agent,
            title=f"A rather long incident title number {n} that wraps on a phone",
            assignment_group=service_desk,
        )
    set_theme("agent", theme)
    page = pages.signed_in("agent", **PHONE)
    for url in ("/work/", "/incidents/", f"/incidents/{records.incident.number}/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert sideways(page) <= 0, (url, overflowing(page))
        assert topbar_rows(page) <= 2, url
        expect(page.get_by_role("link", name="+ Incident")).to_be_in_viewport()


def test_compact_density_fits_thirty_queue_rows(pages, agent, alice, service_desk):
    for n in range(40):
        factories.incident(
            alice,
            actor=agent,
            title=f"Mail bounces for the finance team, case {n}",
            assignment_group=service_desk,
        )

    def rows_in_view(page):
        page.goto("/incidents/")
        page.wait_for_load_state("networkidle")
        return page.evaluate(
            """() => [...document.querySelectorAll('.grid tbody tr')]
              .filter(tr => tr.getBoundingClientRect().bottom <= window.innerHeight).length"""
        )

    page = pages.signed_in("agent", width=1440, height=900)
    comfortable = rows_in_view(page)
    set_theme("agent", "light", density="compact")
    compact = rows_in_view(page)
    assert compact >= 30, (comfortable, compact)
    assert compact > comfortable
    heights = page.evaluate(
        "() => [...document.querySelectorAll('.grid tbody tr')].map(tr => tr.getBoundingClientRect().height)"
    )
    assert max(heights) <= 26, heights  # one line a row


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_sign_in_page(pages, db, scheme):
    # Nobody is signed in: the page follows the device.
    page = pages.new()
    page.emulate_media(color_scheme=scheme)
    page.goto("/login/")
    assert page.locator("html").get_attribute("data-theme") == "system"
    found = {f"sign in [{scheme}]": v for v in [axe_violations(page)] if v}
    assert not found, "axe-core violations:\n" + describe(found)
