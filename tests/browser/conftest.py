"""Fixtures for the browser tests: one headless Debian Chromium per session, driven through
Playwright's sync API, and a fresh browser context (cookies, storage) per signed-in person.

The tests skip when ``/usr/bin/chromium`` is missing. On a failure, every open page is
saved as a PNG under ``$TMPDIR/itsm-browser-failures/`` and the paths are listed in the
test report."""

import os
import re
import tempfile
from pathlib import Path

import pytest
from django.db import connections

from tests.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: How long an expectation or an action waits before it fails (ms). The live server is
#: local, so anything slower than this is a hang, not a slow page.
TIMEOUT_MS = 5_000
SCREENSHOT_DIR = Path(tempfile.gettempdir()) / "itsm-browser-failures"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed")
    # Playwright's sync API keeps an event loop in the main thread; Django would refuse ORM
    # calls from it (fixtures, live_server's database flush) without this.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Django keeps connections per context, and the running event loop is a new context:
    # close the connections made before it, or they stay open past the test database's
    # teardown ("database is being accessed by other users").
    connections.close_all()
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()
            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Pages:
    """Opens a page in a fresh browser context pointed at the live server."""

    def __init__(self, browser, base_url):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []

    def new(self, width=1280, height=900):
        context = self.browser.new_context(
            base_url=self.base_url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        return context.new_page()

    def signed_in(self, username, width=1280, height=900):
        """A new page where ``username`` has signed in through the login form."""
        page = self.new(width, height)
        sign_in(page, username)
        return page

    def screenshot_all(self, name):
        paths = []
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^\w.-]+", "_", name)
        for i, context in enumerate(self.contexts):
            for j, page in enumerate(context.pages):
                path = SCREENSHOT_DIR / f"{safe}-{i}-{j}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception as error:  # a crashed page must not hide the real failure
                    paths.append(f"{path}: no screenshot ({error})")
                else:
                    paths.append(f"{path} ({page.url})")
        return paths

    def close(self):
        for context in self.contexts:
            context.close()


def sign_in(page, username, password=PASSWORD):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def pages(browser, live_server):
    opened = Pages(browser, live_server.url)
    yield opened
    opened.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        opened = item.funcargs.get("pages") if hasattr(item, "funcargs") else None
        if isinstance(opened, Pages):
            shots = opened.screenshot_all(item.nodeid)
            if shots:
                report.sections.append(("browser screenshots", "\n".join(shots)))
    return report
