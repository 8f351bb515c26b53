"""The workspace's one search: a reference typed whole (a record number, an asset tag)
opens its row; words find records of every kind, CIs, assets and people, each with its
state; end users never find what is not theirs."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalogue import services as catalogue_services
from itsm.core import search
from tests import factories
from tests.assets.helpers import deployed, make_asset
from tests.factories import page, web
from tests.problems.conftest import make_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(agent, alice, bob, service_desk, priority_matrix):
    laptop = factories.laptop_item()
    return {
        "problem": make_problem(
            agent, title="Storage latency spikes", assignment_group=service_desk
        ),
        "ci": factories.ci("esx-ber-01", class_key="server"),
        "asset": deployed(agent, "AT-1001", user=alice, model="ThinkPad T14"),
        "other_asset": make_asset(agent, "AT-2002", model="Dell Latitude"),
        "incident": factories.incident(bob, actor=agent, title="Cannot print"),
        "alice_request": catalogue_services.submit_request(alice, laptop, {"model": "mac"}),
        "bob_request": catalogue_services.submit_request(bob, laptop, {"model": "thinkpad"}),
    }


def test_a_problem_number_typed_whole_opens_the_problem(agent, world):
    number = world["problem"].number
    response = web(agent).get(reverse("search"), {"q": f" {number.lower()} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("problems:detail", args=[number])


def test_an_asset_tag_and_a_request_number_open_their_rows(agent, world):
    client = web(agent)
    response = client.get(reverse("search"), {"q": "AT-1001"})
    assert response["Location"] == world["asset"].get_absolute_url()
    number = world["bob_request"].number
    response = client.get(reverse("search"), {"q": number})
    assert response["Location"] == world["bob_request"].get_absolute_url()


def test_an_unknown_number_searches_instead(agent, world):
    response = web(agent).get(reverse("search"), {"q": "PRB9999999"})
    assert response.status_code == 200
    assert "Nothing found" in page(response)


def test_words_find_cis_assets_and_people_with_their_state(agent, alice, world):
    html = page(web(agent).get(reverse("search"), {"q": "esx-ber"}))
    assert "Configuration items" in html and "esx-ber-01" in html
    assert '<span class="badge state">Live</span>' in html
    hits = search.search(agent, "thinkpad")
    asset = next(h for h in hits if h.kind == "assets")
    assert asset.title == "AT-1001" and asset.state == "Deployed"
    people = [h for h in search.search(agent, "alice@example") if h.kind == "people"]
    assert [p.title for p in people] == [alice.get_full_name()]
    assert people[0].url == f"{reverse('incidents:queue')}?caller=alice"


def test_quick_results_put_the_numbered_row_first_then_every_kind(agent, world):
    number = world["problem"].number
    html = page(web(agent).get(reverse("quick-search"), {"q": number}))
    assert 'id="quick-exact"' in html and f"Go to {number}" in html
    assert reverse("problems:detail", args=[number]) in html
    html = page(web(agent).get(reverse("quick-search"), {"q": "esx-b"}))
    assert "esx-ber-01" in html and "Configuration items" in html
    assert "quick-exact" not in html
    html = page(web(agent).get(reverse("quick-search"), {"q": "stora"}))  # a prefix
    assert "Storage latency spikes" in html
    assert '<span class="badge state">New</span>' in html  # the problem's state beside it


def test_quick_results_query_count_is_one_per_kind(agent, world, django_assert_max_num_queries):
    client = web(agent)
    client.get(reverse("quick-search"), {"q": "warmup"})
    kinds = len(search.registry.sources)
    # one per kind, one for the reference lookup, the session and the user
    with django_assert_max_num_queries(kinds + 3):
        response = client.get(reverse("quick-search"), {"q": "AT-1001"})
    assert "Go to" in page(response)


def test_end_users_may_not_use_the_workspace_search(alice, world):
    client = web(alice)
    assert client.get(reverse("quick-search"), {"q": "esx"}).status_code == 403
    assert client.get(reverse("search"), {"q": world["problem"].number}).status_code == 403


def test_end_users_find_only_their_own_requests_and_devices(alice, world):
    assert search.lookup(alice, world["alice_request"].number).obj == world["alice_request"]
    assert search.lookup(alice, world["bob_request"].number) is None
    assert search.lookup(alice, world["problem"].number) is None
    assert search.lookup(alice, "AT-1001").obj == world["asset"]
    assert search.lookup(alice, "AT-2002") is None
    kinds = {h.kind for h in search.search(alice, "esx ber")}
    assert "cis" not in kinds and "people" not in kinds
    assert not [h for h in search.search(alice, "bob") if h.kind == "people"]


def test_the_api_gives_each_hit_its_state_and_refuses_unknown_kinds(alice, agent, world):
    api = APIClient()
    api.force_authenticate(agent)
    response = api.get("/api/v1/search/", {"q": "esx", "kind": "cis"})
    assert response.status_code == 200
    [hit] = response.json()["results"]
    assert hit["kind"] == "cis" and hit["state"] == "Live"
    response = api.get("/api/v1/search/", {"q": "esx", "kind": "ci"})
    assert response.status_code == 400 and "kind" in response.json()
    api.force_authenticate(alice)
    response = api.get("/api/v1/search/", {"q": "thinkpad", "kind": "assets"})
    assert [h["title"] for h in response.json()["results"]] == ["AT-1001"]


@pytest.mark.parametrize("text", ["%", "_", "'; drop table x; --", "x" * 500])
def test_hostile_text_is_safe(agent, world, text):
    client = web(agent)
    assert client.get(reverse("quick-search"), {"q": text}).status_code == 200
    assert client.get(reverse("search"), {"q": text}).status_code == 200


def test_a_nul_is_refused_naming_the_parameter(agent, world):
    client = web(agent)
    for name in ("quick-search", "search"):
        response = client.get(reverse(name), {"q": "a\x00b"})
        assert response.status_code == 400
        assert response.content.decode().startswith("q: ")
