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


def test_an_employee_cannot_probe_usernames_or_retired_cis_through_validate(
    api_as, shelf, alice, bob, agent
):
    """A person question tells an employee nothing about which accounts exist: an existing
    colleague, an inactive one and a made-up name get the same answer (only a malformed
    name is refused); staff, who may look people up, are told when nobody has the name.
    A CI question accepts only the CIs its form offers (not retired ones)."""
    from cmdb.models import ConfigurationItem
    from tests import factories

    item = shelf["everyone"]
    Variable.objects.create(item=item, name="colleague", label="Colleague", type="user")
    Variable.objects.create(item=item, name="device", label="Device", type="ci")
    url = f"{ITEMS}{item.pk}/validate/"
    bob.is_active = False
    bob.save()

    def answer(user, **answers):
        return api_as(user).post(url, {"variables": {"edition": "pro", **answers}}, format="json")

    answers = [answer(alice, colleague=name) for name in ("agent", "bob", "nobody-at-all")]
    assert [r.status_code for r in answers] == [200, 200, 200]
    malformed = answer(alice, colleague="no body!")
    assert malformed.status_code == 400
    assert malformed.json() == {
        "variables.colleague": ["A username (letters, digits and @ . + - _)."]
    }
    assert answer(agent, colleague="agent").status_code == 200
    unknown = answer(agent, colleague="nobody-at-all")
    assert unknown.json() == {"variables.colleague": ["There is no active user nobody-at-all."]}
    assert answer(agent, colleague="bob").status_code == 400  # inactive

    live = factories.ci("lt-0001")
    retired = factories.ci("lt-0002")
    retired.status = ConfigurationItem.Status.RETIRED
    retired.save()
    assert answer(alice, device=live.pk).status_code == 200
    for pk in (retired.pk, 999_999):
        refused = answer(alice, device=pk)
        assert refused.json() == {"variables.device": [f"There is no configuration item {pk}."]}
