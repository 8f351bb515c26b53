"""The request catalogue in the API: who may see which items, each with its JSON Schema."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import CatalogueCategory, CatalogueItem, Variable
from itsm.accounts.models import Organization

pytestmark = pytest.mark.django_db
ITEMS = "/api/v1/catalogue/items/"


@pytest.fixture
def shelf(db, org):
    category = CatalogueCategory.objects.create(name="Software")
    everyone = CatalogueItem.objects.create(name="Office licence", category=category)
    Variable.objects.create(
        item=everyone,
        name="edition",
        label="Edition",
        type="choice",
        required=True,
        choices=[{"value": "std"}, {"value": "pro"}],
    )
    acme_only = CatalogueItem.objects.create(
        name="Acme VPN token", category=category, audience="organizations"
    )
    acme_only.organizations.add(org)
    managers_only = CatalogueItem.objects.create(
        name="Budget report access",
        category=category,
        audience="roles",
        roles="manager, change_manager",
    )
    retired = CatalogueItem.objects.create(name="Fax machine", category=category, active=False)
    return {"everyone": everyone, "acme": acme_only, "managers": managers_only, "retired": retired}


def names(response):
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def test_each_user_sees_what_they_may_order(api_as, shelf, alice, agent, manager, org):
    assert names(api_as(alice).get(ITEMS)) == {"Office licence", "Acme VPN token"}
    assert names(api_as(manager).get(ITEMS)) == {"Office licence", "Budget report access"}
    outsider = Organization.objects.create(name="Other")
    agent.organization = outsider
    agent.save()
    # "manager" matches the role whole: a change manager's list is not an agent's.
    assert names(api_as(agent).get(ITEMS)) == {"Office licence"}
    assert api_as(alice).get(f"{ITEMS}{shelf['managers'].pk}/").status_code == 404
    assert api_as(alice).get(f"{ITEMS}{shelf['retired'].pk}/").status_code == 404


def test_item_carries_its_form_as_json_schema(api_as, shelf, alice):
    body = api_as(alice).get(f"{ITEMS}{shelf['everyone'].pk}/").json()
    assert body["schema"]["required"] == ["edition"]
    assert body["schema"]["properties"]["edition"]["oneOf"] == [
        {"const": "std", "title": "std"},
        {"const": "pro", "title": "pro"},
    ]
    assert body["variables"][0]["name"] == "edition"


def test_validate_answers_without_ordering(api_as, shelf, alice):
    url = f"{ITEMS}{shelf['everyone'].pk}/validate/"
    ok = api_as(alice).post(url, {"variables": {"edition": "pro"}}, format="json")
    assert ok.status_code == 200
    assert ok.json() == {"variables": {"edition": "pro"}}
    bad = api_as(alice).post(url, {"variables": {"edition": "ultimate", "seats": 3}}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"variables.edition", "variables.seats"}
    missing = api_as(alice).post(url, {}, format="json")
    assert missing.status_code == 400
    assert "variables" in missing.json()


def test_anonymous_users_see_nothing(client, shelf):
    assert client.get(ITEMS).status_code in (401, 403)


def test_item_list_query_count_is_constant(api_as, shelf, alice):
    client = api_as(alice)
    with CaptureQueriesContext(connection) as few:
        client.get(ITEMS)
    category = CatalogueCategory.objects.get()
    for n in range(8):
        item = CatalogueItem.objects.create(name=f"Item {n}", category=category)
        Variable.objects.create(item=item, name="note", label="Note")
    with CaptureQueriesContext(connection) as many:
        assert len(names(client.get(ITEMS))) == 10
    assert len(few) == len(many)
