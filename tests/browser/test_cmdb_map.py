"""The service map in a real browser: the vendored graph library draws the CIs around the
centre, the depth control redraws it, the zoom buttons zoom, and a click on a CI either
recentres the map on it or opens its page."""

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from cmdb import services
from cmdb.models import RelationshipType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: The map has drawn what it fetched last.
DRAWN = "window.cy && document.getElementById('cy').dataset.state === 'ready'"


def drawn(condition="true") -> str:
    return f"() => {DRAWN} && ({condition})"


def relate(actor, source, key, target):
    services.relate(actor, source, RelationshipType.objects.get(key=key), target)


@pytest.fixture
def stack(agent):
    """online-shop (service) depends on shop-app, which depends on shop-db, which runs
    on db-01."""
    shop = services.create_ci(agent, ci_class="business_service", name="online-shop")
    app = services.create_ci(agent, ci_class="application", name="shop-app")
    db = services.create_ci(agent, ci_class="database", name="shop-db")
    host = services.create_ci(
        agent, ci_class="server", name="db-01", attributes={"hostname": "db-01"}
    )
    relate(agent, shop, "depends_on", app)
    relate(agent, app, "depends_on", db)
    relate(agent, db, "runs_on", host)
    return {"shop": shop, "app": app, "db": db, "host": host}


def node_count(page) -> int:
    return page.evaluate("cy.nodes().length")


def click_node(page, pk):
    """A real mouse click where the graph draws the node."""
    x, y = page.evaluate(
        "(id) => { const p = cy.getElementById(id).renderedPosition(); return [p.x, p.y]; }",
        str(pk),
    )
    box = page.locator("#cy").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_service_map(pages, agent, stack):
    desk = pages.signed_in("agent")
    db, host, app = stack["db"], stack["host"], stack["app"]
    # From the CI's page to its map.
    desk.goto(f"/cmdb/{db.pk}/")
    desk.get_by_role("link", name="Service map").first.click()
    expect(desk).to_have_url(re.compile(rf"/cmdb/{db.pk}/map/$"))
    desk.wait_for_function(drawn())
    expect(desk.locator("#cy canvas").first).to_be_visible()
    # Depth 2 around shop-db: everything but nothing more.
    assert node_count(desk) == 4
    assert desk.evaluate("cy.edges().length") == 3
    assert desk.evaluate("cy.$('node.centre').map(n => n.id())") == [str(db.pk)]
    assert desk.evaluate("cy.$('node.service').map(n => n.data('name'))") == ["online-shop"]
    expect(desk.locator("#map-status")).to_have_text("4 CIs, 3 relationships")
    expect(desk.locator("#map-truncated")).to_be_hidden()

    # Depth 1 still draws the business service the outage reaches, and the way to it
    # (issue 11: the services affected show at any depth); the address keeps the depth.
    desk.get_by_label("Depth", exact=True).select_option("1")
    expect(desk).to_have_url(re.compile(rf"/cmdb/{db.pk}/map/\?depth=1$"))
    desk.wait_for_function(drawn())
    assert node_count(desk) == 4
    assert desk.evaluate("cy.$('node.service').map(n => n.data('name'))") == ["online-shop"]

    # The zoom buttons and the fit button.
    before = desk.evaluate("cy.zoom()")
    desk.get_by_role("button", name="Zoom in").click()
    assert desk.evaluate("cy.zoom()") > before
    desk.get_by_role("button", name="Zoom out").click()
    desk.get_by_role("button", name="Zoom out").click()
    assert desk.evaluate("cy.zoom()") < before
    desk.get_by_role("button", name="Fit").click()

    # Clicking a CI with "recentre" ticked moves the map to it.
    desk.get_by_label("Clicking a CI recentres the map").check()
    click_node(desk, host.pk)
    desk.wait_for_function(drawn(f"document.getElementById('cy').dataset.centre === '{host.pk}'"))
    expect(desk).to_have_url(re.compile(rf"/cmdb/{host.pk}/map/\?depth=1$"))
    expect(desk.locator("#map-title")).to_have_text("db-01")
    # Its neighbour, and the service four hops up with the CIs on the way to it.
    assert sorted(desk.evaluate("cy.nodes().map(n => n.data('name'))")) == [
        "db-01",
        "online-shop",
        "shop-app",
        "shop-db",
    ]

    # Depth 2 around db-01, then a plain click opens a CI's page.
    desk.get_by_label("Depth", exact=True).select_option("2")
    expect(desk).to_have_url(re.compile(rf"/cmdb/{host.pk}/map/\?depth=2$"))
    desk.wait_for_function(drawn("cy.nodes().length === 4"))
    desk.get_by_label("Clicking a CI recentres the map").uncheck()
    click_node(desk, app.pk)
    expect(desk).to_have_url(re.compile(rf"/cmdb/{app.pk}/$"))
    expect(desk.get_by_role("heading", name="shop-app")).to_be_visible()
