"""Defects the generic layer closes, each found black box: choices from what a person may
see, If-Match on every type, hostile values parsed and bounded at the edge."""

import base64
import json

import pytest

from catalogue.models import ServiceRequest
from incidents.models import Incident
from tests import factories

LIST = "/api/v1/incidents/"


@pytest.fixture
def others(agent, bob, service_desk, mail_server):
    """Someone else's incident, a CI and a staff member an end user must never be shown."""
    from itsm.accounts.models import Role
    from tests.conftest import make_user

    make_user("zelda", Role.AGENT)
    return factories.incident(bob, actor=agent, title="Payroll run failed for the board")


class TestChoicesComeFromWhatOneMaySee:
    def test_browsable_api_form_lists_only_own_records(self, api_as, alice, agent, others):
        mine = factories.incident(alice, title="My own printer")
        html = api_as(alice).get(LIST, {"format": "api"}).content.decode()
        assert mine.number in html  # the list itself, and the form's own choices
        assert others.number not in html
        assert "Payroll run failed" not in html
        assert "mail-01" not in html  # no CI names
        assert 'value="zelda"' not in html  # no staff to pick either
        assert 'value="bob"' not in html  # nor other employees

    def test_staff_still_see_every_choice(self, api_as, agent, others):
        html = api_as(agent).get(LIST, {"format": "api"}).content.decode()
        assert others.number in html
        assert "mail-01" in html
        assert 'value="zelda"' in html

    def test_an_end_user_cannot_pick_what_they_cannot_see(self, api_as, alice, others, mail_server):
        before = Incident.objects.count()
        response = api_as(alice).post(
            LIST, {"title": "Mine", "configuration_items": [mail_server.pk]}, format="json"
        )
        assert response.status_code == 400
        assert "configuration_items" in response.json()
        assert Incident.objects.count() == before

    def test_asset_filter_form_hides_suppliers_from_end_users(self, api_as, alice, agent):
        from practices.assets import services

        services.create_supplier(agent, {"name": "Secret Hardware GmbH"})
        html = api_as(alice).get("/api/v1/assets/", {"format": "api"}).content.decode()
        assert "Secret Hardware GmbH" not in html
        staff = api_as(agent).get("/api/v1/assets/", {"format": "api"}).content.decode()
        assert "Secret Hardware GmbH" in staff


@pytest.fixture
def laptop_request(alice):
    from catalogue.models import CatalogueCategory, CatalogueItem
    from catalogue.services import submit_request

    category = CatalogueCategory.objects.create(name="Hardware")
    item = CatalogueItem.objects.create(name="Laptop", category=category)
    return submit_request(alice, item, {})


class TestIfMatchOnServiceRequests:
    def test_a_stale_if_match_is_412_and_changes_nothing(self, api_as, alice, laptop_request):
        client = api_as(alice)
        url = f"/api/v1/requests/{laptop_request.number}/"
        etag = client.get(url)["ETag"]
        ServiceRequest.objects.filter(pk=laptop_request.pk).update(version=99)
        response = client.patch(url, {"state": "closed"}, HTTP_IF_MATCH=etag)
        assert response.status_code == 412
        assert response["ETag"] == f'"{laptop_request.number}-v99"'
        laptop_request.refresh_from_db()
        assert laptop_request.state == "fulfilled"

    def test_the_current_etag_closes_it(self, api_as, alice, laptop_request):
        client = api_as(alice)
        url = f"/api/v1/requests/{laptop_request.number}/"
        etag = client.get(url)["ETag"]
        response = client.patch(url, {"state": "closed"}, HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.content
        assert response["ETag"] != etag
        assert response.json()["state"] == "closed"


class TestHostileValues:
    @pytest.mark.parametrize("param", ["created_after", "created_before"])
    @pytest.mark.parametrize("offset", ["+16:00", "-20:30", "+23:59"])
    def test_an_offset_no_zone_has_is_a_400_naming_it(self, api_as, agent, param, offset):
        response = api_as(agent).get(LIST, {param: f"2026-01-01T00:00:00{offset}"})
        assert response.status_code == 400
        assert param in response.json()

    def test_a_real_offset_filters(self, api_as, agent, alice):
        factories.incident(alice)
        response = api_as(agent).get(LIST, {"created_after": "2000-01-01T00:00:00+14:00"})
        assert response.status_code == 200
        assert len(response.json()["results"]) == 1

    def test_a_crafted_cursor_with_a_wild_offset_is_a_400(self, api_as, agent, alice):
        factories.incident(alice)
        values = ["2026-01-01T00:00:00+20:00", 5]
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
        response = api_as(agent).get(LIST, {"cursor": cursor})
        assert response.status_code == 400
        assert "cursor" in response.json()

    def test_a_deeply_nested_cursor_is_a_400(self, api_as, agent):
        raw = "[" * 5000 + "]" * 5000
        cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        response = api_as(agent).get(LIST, {"cursor": cursor})
        assert response.status_code == 400
        assert "cursor" in response.json()

    @pytest.mark.parametrize("depth", [40, 1000, 100_000])
    def test_json_nested_deep_is_a_400(self, api_as, agent, depth):
        body = '{"title": "x", "description": ' + "[" * depth + "]" * depth + "}"
        before = Incident.objects.count()
        response = api_as(agent).post(LIST, body, content_type="application/json")
        assert response.status_code == 400
        assert "nested" in response.json()["detail"]
        assert Incident.objects.count() == before

    def test_the_anonymous_token_endpoint_too(self, client, db):
        body = '{"username": ' + "[" * 1000 + "]" * 1000 + "}"
        response = client.post("/api/v1/auth/token/", body, content_type="application/json")
        assert response.status_code == 400

    def test_ordinary_nesting_still_works(self, api_as, agent):
        response = api_as(agent).post(
            "/api/v1/cis/",
            {"name": "app-1", "ci_class": "application", "attributes": {}},
            format="json",
        )
        assert response.status_code in (201, 400)  # parsed: what the CMDB says of it
        assert "nested" not in response.content.decode()
