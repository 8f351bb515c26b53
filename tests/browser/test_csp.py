"""The Content-Security-Policy holds in a real browser: every main screen (and every page a
bounded crawl of the workspace, the portal and the admin reaches) opens in Chromium with
no violation reported, so no inline script, inline style, style attribute, eval or foreign
resource is left anywhere, the admin and the API docs included.

A violation is caught twice: the page's ``securitypolicyviolation`` events (reported to the
test through a binding installed before any of the page's own scripts run) and Chromium's
console errors naming the policy. The demo data gives every screen something to show.
"""

import time
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from changes.models import Change
from cmdb.models import ConfigurationItem
from incidents.models import Incident
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "demo"

#: Installed before the page's scripts (Playwright's init scripts are exempt from the CSP).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolation({
    directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile + ":" + event.lineNumber,
    sample: event.sample,
    page: location.pathname + location.search,
  });
});
"""

#: How many pages a person's crawl opens at most, and for how long (seconds).
CRAWL_PAGES = 40
CRAWL_SECONDS = 60

#: Links a crawl never follows: downloads and feeds, raw API answers, actions on a GET.
SKIP = ("/api/", "/logout/", ".ics", ".csv", ".json", "/download", "/export", "/attachments/")


class Violations:
    """Every CSP violation a browser context reports, with the page it happened on."""

    def __init__(self):
        self.found = []

    def watch(self, page):
        page.context.expose_binding("__cspViolation", lambda source, v: self.found.append(v))
        page.context.add_init_script(REPORT_VIOLATIONS)

        def console(message):
            if message.type == "error" and "Content Security Policy" in message.text:
                self.found.append({"console": message.text, "page": page.url})

        page.on("console", console)
        return page


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


@pytest.fixture
def violations():
    return Violations()


def person(pages, violations, username):
    page = violations.watch(pages.new())
    sign_in(page, username, DEMO_PASSWORD)
    return page


def visit(page, url):
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    return response


def crawl(page, start, *, prefix="/", pages=CRAWL_PAGES, seconds=CRAWL_SECONDS, skip=SKIP):
    """Open the same-site pages linked from ``start`` (breadth first, bounded); the URLs seen."""
    origin = urlsplit(page.url)
    seen, queue, deadline = set(), [start], time.monotonic() + seconds
    while queue and len(seen) < pages and time.monotonic() < deadline:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = page.goto(url)
        if response is None or response.status != 200:
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        page.wait_for_load_state("networkidle")
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(urljoin(page.url, href))
            if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if not parts.path.startswith(prefix) or any(s in path for s in skip):
                continue
            if path not in seen and path not in queue:
                queue.append(path)
    return seen


def assert_none(violations):
    """No violation; else each distinct one once, with the pages it happened on."""
    where = {}
    for found in violations.found:
        what = found.get("console") or (
            f"{found['directive']} blocked {found['blocked']} from {found['source']} {found['sample']}"
        )
        where.setdefault(what, []).append(found["page"])
    assert not where, "CSP violations:\n" + "\n".join(
        f"{what}\n    on {', '.join(pages[:5])}{' …' if len(pages) > 5 else ''}"
        for what, pages in where.items()
    )


def test_the_policy_is_strict(client, agent):
    """The header the browser gets: nonce-only scripts, no inline style, nothing foreign."""
    client.force_login(agent)
    policy = client.get(reverse("incidents:queue"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].startswith("'self' 'nonce-")
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe" not in policy


def test_main_screens_raise_no_violation(pages, violations, demo):
    anonymous = violations.watch(pages.new())
    visit(anonymous, reverse("login"))

    incident = Incident.objects.order_by("pk").first()
    change = Change.objects.order_by("pk").first()
    ci = ConfigurationItem.objects.filter(outgoing_relationships__isnull=False).first()
    ci = ci or ConfigurationItem.objects.order_by("pk").first()

    desk = person(pages, violations, "agent")
    for url in (
        reverse("home"),
        reverse("incidents:queue"),
        reverse("incidents:detail", args=[incident.number]),
        reverse("changes:detail", args=[change.number]),
        reverse("changes:calendar"),
    ):
        visit(desk, url)
    visit(desk, reverse("cmdb:map", args=[ci.pk]))
    expect(desk.locator("#cy[data-state=ready]")).to_be_attached()
    visit(desk, reverse("api-docs"))
    expect(desk.locator(".swagger-ui .info .title")).to_be_visible()
    visit(desk, "/api/v1/incidents/")  # the browsable API
    expect(desk.locator(".response-info")).to_be_visible()

    employee = person(pages, violations, "alice")
    visit(employee, reverse("portal-home"))

    administrator = person(pages, violations, "admin")
    visit(administrator, reverse("admin:index"))
    visit(administrator, reverse("admin:incidents_incident_changelist"))
    visit(administrator, reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert_none(violations)


def test_crawl_raises_no_violation(pages, violations, demo):
    """Whatever screens the practices add, what people reach by following links holds: the
    agent's workspace, an employee's portal and the administrator's admin."""
    for username, start, prefix in (
        ("agent", "/", "/"),
        ("alice", "/portal/", "/portal/"),
        ("admin", "/admin/", "/admin/"),
    ):
        page = person(pages, violations, username)
        skip = SKIP + (("/delete/",) if prefix == "/admin/" else ())
        seen = crawl(page, start, prefix=prefix, skip=skip)
        assert len(seen) > 5, seen
    assert_none(violations)
