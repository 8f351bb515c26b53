"""At the default depth, a CI's page and its service map name the business services an
outage of the CI reaches, however far up the chain they are: a server four hops below the
online shop (server ← VM ← application ← database… ← service) still says "online shop"."""

import re

import pytest

from cmdb.models import Relationship, RelationshipType
from cmdb.views import DEFAULT_DEPTH
from tests.factories import ci, page, web

pytestmark = pytest.mark.django_db


def relate(source, key, target):
    return Relationship.objects.create(
        source=source, target=target, type=RelationshipType.objects.get(key=key)
    )


@pytest.fixture
def chain(db):
    """online-shop depends on shop-db depends on... : the service is 4 hops from the host.
    service → (depends on) database → (depends on) application → (runs on) VM → (runs on)
    server; an outage of the server reaches the service."""
    host = ci("esx-01", "server")
    vm = ci("vm-shop", "virtual_machine")
    app = ci("shop-app", "application")
    db = ci("shop-db", "database")
    shop = ci("Online shop", "business_service")
    relate(vm, "runs_on", host)
    relate(app, "runs_on", vm)
    relate(db, "depends_on", app)
    relate(shop, "depends_on", db)
    # A service depending on nothing of this chain: never named.
    ci("Payroll", "business_service")
    return {"host": host, "vm": vm, "app": app, "db": db, "shop": shop}


def services_named(text) -> list[str]:
    found = re.search(r'<p class="services-hit">(.*?)</p>', text, re.DOTALL)
    return re.findall(r'class="badge service">([^<]+)</a>', found.group(1)) if found else []


def test_the_default_depth_is_shorter_than_the_chain():
    assert int(DEFAULT_DEPTH) < 4  # else this file proves nothing


def test_the_ci_page_names_the_service_four_hops_up_at_the_default_depth(agent, chain):
    text = page(web(agent).get(f"/cmdb/{chain['host'].pk}/"))
    assert services_named(text) == ["Online shop"]
    # The list itself still goes as deep as chosen: the nearest two.
    panel = text[text.index('id="impact-panel"') :]
    panel = panel[: panel.index("</table>")]
    assert "vm-shop" in panel and "shop-app" in panel and "shop-db" not in panel


def test_the_impact_panel_names_it_at_every_depth_chosen(agent, chain):
    client = web(agent)
    for depth in ("1", "2", "3", "all"):
        response = client.get(
            f"/cmdb/{chain['host'].pk}/",
            {"panel": "impact", "depth": depth},
            headers={"HX-Request": "true"},
        )
        assert services_named(page(response)) == ["Online shop"], depth


def test_a_ci_with_no_service_above_it_names_none(agent, chain):
    text = page(web(agent).get(f"/cmdb/{chain['shop'].pk}/"))
    assert services_named(text) == []


def test_the_map_shows_the_service_and_the_way_to_it_at_the_default_depth(agent, chain):
    data = web(agent).get(f"/cmdb/{chain['host'].pk}/map.json").json()
    assert data["depth"] == int(DEFAULT_DEPTH)
    names = {n["name"]: n for n in data["nodes"]}
    assert names["Online shop"]["is_service"] is True
    assert names["Online shop"]["depth"] == 4
    # Drawn connected: every CI on the way is there, with the relationships between them.
    assert {"esx-01", "vm-shop", "shop-app", "shop-db", "Online shop"} <= set(names)
    assert "Payroll" not in names
    ids = {str(c.pk) for c in chain.values()}
    edges = {(e["source"], e["target"]) for e in data["edges"]}
    assert len([e for e in edges if set(e) <= ids]) == 4
    assert data["truncated"] is False
    # The legend says so.
    legend = page(web(agent).get(f"/cmdb/{chain['host'].pk}/map/"))
    assert "an outage of the centre reaches is drawn at any depth" in legend


def test_the_map_and_the_page_cost_the_same_queries_for_a_longer_chain(
    agent, chain, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web(agent)
    client.get(f"/cmdb/{chain['host'].pk}/map.json")  # session, caches
    with CaptureQueriesContext(connection) as short:
        client.get(f"/cmdb/{chain['host'].pk}/map.json")
    with CaptureQueriesContext(connection) as page_short:
        client.get(f"/cmdb/{chain['host'].pk}/")
    top = chain["shop"]
    for i in range(5):  # five more hops and three more services
        above = ci(f"svc-{i}", "business_service" if i % 2 == 0 else "application")
        relate(above, "depends_on", top)
        top = above
    with django_assert_max_num_queries(len(short)):
        data = client.get(f"/cmdb/{chain['host'].pk}/map.json").json()
    assert {"svc-0", "svc-2", "svc-4"} <= {n["name"] for n in data["nodes"]}
    with django_assert_max_num_queries(len(page_short)):
        text = page(client.get(f"/cmdb/{chain['host'].pk}/"))
    assert services_named(text) == ["Online shop", "svc-0", "svc-2", "svc-4"]
