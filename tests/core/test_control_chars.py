"""NUL and the other control characters (C0 but tab, line feed and carriage return; DEL)
are refused everywhere with a 400 naming where they were, and nothing is saved: query
parameters (API and screens), form fields (names and values, urlencoded and multipart),
JSON strings (values and keys, at any depth) and the headers the platform reads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.models import Incident
from itsm.core.models import Attachment
from tests import factories
from tests.factories import web

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"
MESSAGE = "Null and other control characters are not allowed."
CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"]


@pytest.fixture
def incident(agent, alice, service_desk):
    return factories.incident(
        alice, actor=agent, title="Mail is down", assignment_group=service_desk, assigned_to=agent
    )


class TestQueryStrings:
    @pytest.mark.parametrize("char", CONTROLS)
    @pytest.mark.parametrize("who", ["agent", "alice"])
    def test_the_api_names_the_parameter(self, api_as, request, char, who):
        response = api_as(request.getfixturevalue(who)).get(LIST, {"q": f"mail{char}"})
        assert response.status_code == 400
        assert response.json() == {"q": [MESSAGE]}

    def test_each_bad_parameter_is_named_and_a_bad_name_shown_escaped(self, api_as, agent):
        response = api_as(agent).get(f"{LIST}?ordering=a%01&q%00x=1&state=new")
        assert response.status_code == 400
        assert response.json() == {"ordering": [MESSAGE], "q\\x00x": [MESSAGE]}

    @pytest.mark.parametrize(
        "path", ["/incidents/", "/portal/catalogue/", "/cmdb/lookup/", "/search/"]
    )
    def test_a_screen_refuses_with_a_400_naming_the_parameter(self, agent, path):
        response = web(agent).get(path, {"q": "lap\x00top"})
        assert response.status_code == 400
        assert response.content.decode() == f"q: {MESSAGE}"

    @pytest.mark.parametrize("path", ["/api/v1/incidents/INC%001/", "/incidents/a%01b/"])
    def test_the_path_is_named(self, api_as, agent, path):
        response = api_as(agent).get(path)
        assert response.status_code == 400
        assert "path" in response.content.decode()

    def test_tab_and_line_breaks_are_text(self, api_as, agent):
        assert api_as(agent).get(LIST, {"q": "a\tb\r\nc"}).status_code == 200


class TestForms:
    def test_a_form_field_is_named(self, client, alice):
        response = client.post("/login/", {"username": "alice\x00", "password": "x"})
        assert response.status_code == 400
        assert "username: " + MESSAGE in response.content.decode()

    def test_a_field_name_is_named_escaped(self, client):
        response = client.post("/login/", {"user\x1bname": "alice", "password": "x"})
        assert response.status_code == 400
        assert "user\\x1bname" in response.content.decode()

    def test_a_form_post_to_the_api_is_named_in_json(self, api_as, agent, alice):
        response = api_as(agent).post(
            LIST, {"title": "Printer\x07", "caller": "alice"}, format="multipart"
        )
        assert response.status_code == 400
        assert response.json() == {"title": [MESSAGE]}
        assert not Incident.objects.exists()

    def test_a_multipart_screen_post_saves_nothing(self, agent, incident):
        response = web(agent).post(
            f"/incidents/{incident.number}/attach/",
            {"file": SimpleUploadedFile("a.log", b"fine\n"), "internal": "\x00"},
        )
        assert response.status_code == 400
        assert "internal" in response.content.decode()
        assert not Attachment.objects.exists()


class TestJson:
    @pytest.mark.parametrize("char", CONTROLS)
    def test_a_string_value_is_named(self, api_as, agent, alice, char):
        response = api_as(agent).post(
            LIST, {"title": f"Outlook{char}", "caller": "alice"}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {"title": [MESSAGE]}
        assert not Incident.objects.exists()

    def test_nested_values_keys_and_lists_are_named_by_path(self, api_as, agent):
        response = api_as(agent).post(
            "/api/v1/requests/",
            {
                "item": 1,
                "variables": {"reason": "old\x00one", "ke\x01y": "v", "extras": ["ok", "b\x7fad"]},
            },
            format="json",
        )
        assert response.status_code == 400
        assert response.json() == {
            "variables.extras[1]": [MESSAGE],
            "variables.ke\\x01y": [MESSAGE],
            "variables.reason": [MESSAGE],
        }

    def test_the_anonymous_token_endpoint_too(self, client):
        response = client.post(
            "/api/v1/auth/token/",
            {"username": "alice\x00", "password": "x"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert response.json() == {"username": [MESSAGE]}

    def test_tabs_and_line_breaks_are_kept(self, api_as, agent, alice):
        response = api_as(agent).post(
            LIST,
            {"title": "Outlook", "description": "line one\r\n\tline two", "caller": "alice"},
            format="json",
        )
        assert response.status_code == 201, response.content
        assert Incident.objects.get().description == "line one\r\n\tline two"


class TestHeaders:
    def test_an_idempotency_key_is_named(self, api_as, agent, alice):
        response = api_as(agent).post(
            LIST,
            {"title": "Outlook", "caller": "alice"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="key\x00",
        )
        assert response.status_code == 400
        assert response.json() == {"Idempotency-Key": [MESSAGE]}
        assert not Incident.objects.exists()

    def test_an_if_match_is_named(self, api_as, agent, incident):
        response = api_as(agent).patch(
            f"{LIST}{incident.number}/", {"title": "New"}, format="json", HTTP_IF_MATCH='"1\x01"'
        )
        assert response.status_code == 400
        assert response.json() == {"If-Match": [MESSAGE]}
        incident.refresh_from_db()
        assert incident.title == "Mail is down"
