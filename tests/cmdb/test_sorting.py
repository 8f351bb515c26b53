"""CI names sort as people read them, whatever their case: "app-01", "DB-01", "db-02",
"Mail" — not every capitalised name before every lower-case one. In the CI list (and its
"Load more" pages), the API, the CI pickers, a CI's relationships and the catalogue's
CI questions."""

import re
from urllib.parse import parse_qs, urlparse

import pytest

from cmdb import services
from cmdb.models import ConfigurationItem, RelationshipType
from tests.factories import ci, page, web

pytestmark = pytest.mark.django_db

NAMES = ["zeta", "Alpha", "beta", "Gamma", "DELTA", "epsilon"]
READ = ["Alpha", "beta", "DELTA", "epsilon", "Gamma", "zeta"]
ROW = re.compile(r'<td class="title"><a href="/cmdb/\d+/">([^<]+)</a>')
MORE = re.compile(r'<tr class="more">.*?href="\?([^"]*)"', re.DOTALL)


@pytest.fixture
def items(db):
    return {name: ci(name) for name in NAMES}


def names(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return ROW.findall(page(response))


def test_the_cmdb_list_sorts_names_whatever_their_case(agent, items):
    client = web(agent)
    assert names(client.get("/cmdb/")) == READ
    assert names(client.get("/cmdb/?ordering=-sort_name")) == READ[::-1]
    # The API's word for it (and a link from before) sorts the same way.
    assert names(client.get("/cmdb/?ordering=name")) == READ
    assert names(client.get("/cmdb/?ordering=-name")) == READ[::-1]


def test_load_more_pages_keep_the_order_and_miss_no_ci(agent, items, settings):
    from cmdb.views import CIScreens

    client = web(agent)
    seen: list[str] = []
    query = ""
    old = CIScreens.page_size
    CIScreens.page_size = 2
    try:
        for _ in range(5):
            response = client.get(
                f"/cmdb/?{query}", headers={"HX-Request": "true"} if query else {}
            )
            seen += names(response)
            more = MORE.search(page(response))
            if not more:
                break
            query = more.group(1).replace("&amp;", "&")
    finally:
        CIScreens.page_size = old
    assert seen == READ


def test_the_api_orders_by_name_whatever_the_case_across_pages(api_as, agent, items):
    client = api_as(agent)
    seen: list[str] = []
    url = "/api/v1/cis/?page_size=4"
    while url:
        answer = client.get(url).json()
        seen += [row["name"] for row in answer["results"]]
        url = answer["next"]
    assert seen == READ
    ordered = client.get("/api/v1/cis/?ordering=-name").json()["results"]
    assert [row["name"] for row in ordered] == READ[::-1]
    cursor = parse_qs(urlparse(client.get("/api/v1/cis/?page_size=3").json()["next"]).query)
    assert cursor["cursor"]


def test_the_ci_pickers_offer_names_in_reading_order(api_as, agent, items):
    answer = api_as(agent).get("/api/v1/lookups/cis/", {"q": "a"}).json()
    offered = [item["label"].split(" (")[0] for item in answer["results"]]
    assert offered == [n for n in READ if "a" in n.lower()]
    suggestions = page(web(agent).get("/cmdb/lookup/", {"q": "a"}))
    listed = re.findall(r'<option value="([^"]+)"', suggestions)
    assert [n for n in READ if any(n in v for v in listed)] == [n for n in READ if "a" in n.lower()]
    positions = [suggestions.index(n) for n in READ if "a" in n.lower()]
    assert positions == sorted(positions)


def test_a_cis_relationships_list_names_in_reading_order(agent, items):
    centre = ci("centre")
    depends = RelationshipType.objects.get(key="depends_on")
    for name in NAMES:
        services.relate(agent, centre, depends, items[name])
    text = page(web(agent).get(f"/cmdb/{centre.pk}/"))
    section = text[text.index("centre") :]
    positions = [section.index(f">{name}<") for name in READ]
    assert positions == sorted(positions)


def test_sort_name_follows_a_rename(agent, items):
    renamed = services.update_ci(items["zeta"], agent, {"name": "Aardvark"}, items["zeta"].version)
    assert renamed.name == "Aardvark"
    first = ConfigurationItem.objects.order_by("sort_name", "id").first()
    assert first.name == "Aardvark"
    # The journal speaks of the name, not of the sort key kept by the database.
    from itsm.core.models import JournalEntry

    entry = JournalEntry.objects.for_record(renamed).filter(kind="fields").latest("id")
    assert "name" in entry.data and "sort_name" not in entry.data
