"""SLA badges in a real browser: an agent in Berlin reads which agreement each badge is
for and when it is due in their own time zone."""

import re
from datetime import timedelta

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from practices.service_level.models import BusinessCalendar
from tests import factories
from tests.service_level.conftest import agreement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_badges_name_their_agreement_in_the_users_time_zone(pages, agent, alice, service_desk):
    always = BusinessCalendar.objects.create(name="24x7", always_open=True)
    agent.time_zone = "Europe/Berlin"
    agent.save()
    agreement("Standard", always, resolution=timedelta(hours=4))
    agreement(
        "Service desk OLA", always, resolution=timedelta(hours=2), kind="ola", team=service_desk
    )
    incident = factories.incident(
        alice, actor=agent, title="Mail down", assignment_group=service_desk
    )
    page = pages.signed_in("agent")

    # The queue: one badge a row (the most urgent: the OLA's), the other counted beside it.
    page.goto("/incidents/")
    row = page.locator(f"tr[data-href='/incidents/{incident.number}/']")
    expect(row.locator(".badge.sla").first).to_have_text(re.compile(r"^OLA Resolve 1h 5\dm$"))
    expect(row.locator(".sla-more")).to_have_text("+1")

    # The page: each agreement by name, its due time in Berlin time, zone named.
    page.goto(f"/incidents/{incident.number}/")
    panel = page.locator(".sla-panel")
    expect(panel.locator(".sla-name")).to_have_text(["Standard", "Service desk OLA"])
    expect(panel.locator(".sla-when").first).to_contain_text(re.compile(r"due \S+ \d\d:\d\d CET"))
    expect(page.locator(".timeline")).to_contain_text(re.compile(r"due \S+ \d\d:\d\d CET"))
    badge = panel.locator(".badge.sla").first
    expect(badge).to_have_text(re.compile(r"^SLA Resolve 3h 5\dm$"))
    expect(badge).to_have_attribute(
        "title", re.compile(r"^Standard · .*due .* CET, 3h 5\dm of working")
    )
