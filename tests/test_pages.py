"""Pages around the screens: signing in, the API schema and docs, the static files the
base template loads, and the admin site."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests import factories
from tests.conftest import PASSWORD
from tests.factories import web


class TestLogin:
    def test_renders_a_form(self, db):
        response = Client().get("/login/")
        assert response.status_code == 200
        body = response.content.decode()
        form = factories.html_form(body, "/login/")
        assert {"csrfmiddlewaretoken", "username", "password"} <= set(form)
        assert 'type="password"' in body

    def test_signs_an_agent_in_to_the_workspace(self, agent):
        client = Client(enforce_csrf_checks=True)
        form = factories.html_form(client.get("/login/").content.decode(), "/login/")
        form.update(username="agent", password=PASSWORD)
        response = client.post("/login/", form)
        assert response.status_code == 302
        assert response.url == "/"
        assert client.get("/").url == "/work/"
        assert "My work" in client.get("/work/").content.decode()

    def test_signs_an_end_user_in_to_the_portal(self, alice):
        client = Client()
        response = client.post("/login/", {"username": "alice", "password": PASSWORD}, follow=True)
        assert response.redirect_chain[-1][0] == "/portal/"
        assert "Hi Alice, how can we help?" in response.content.decode()

    def test_goes_back_to_the_page_asked_for(self, agent):
        client = Client()
        asked = client.get("/incidents/?view=my_open")
        next_url = parse_qs(urlparse(asked.url).query)["next"][0]
        assert next_url == "/incidents/?view=my_open"
        response = client.post(
            "/login/", {"username": "agent", "password": PASSWORD, "next": next_url}
        )
        assert response.url == "/incidents/?view=my_open"

    def test_wrong_password(self, alice):
        client = Client()
        response = client.post("/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
        body = response.content.decode()
        assert "Your username and password didn't match." in body
        assert 'value="alice"' in body
        assert "_auth_user_id" not in client.session

    def test_inactive_user_cannot_sign_in(self, alice):
        alice.is_active = False
        alice.save(update_fields=["is_active"])
        client = Client()
        response = client.post("/login/", {"username": "alice", "password": PASSWORD})
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_sign_out(self, alice):
        client = web(alice)
        response = client.post("/logout/")
        assert response.status_code == 302
        assert response.url == "/login/"
        assert client.get("/portal/").status_code == 302

    def test_signed_in_user_skips_the_form(self, alice):
        response = web(alice).get("/login/")
        assert response.status_code == 302


class TestApiDocs:
    @pytest.mark.parametrize("who", ["agent", "alice"])
    def test_schema(self, request, who):
        response = web(request.getfixturevalue(who)).get("/api/schema/")
        assert response.status_code == 200
        body = response.content.decode()
        assert body.startswith("openapi: 3")
        assert "/api/v1/incidents/" in body

    def test_schema_as_json(self, agent):
        response = web(agent).get("/api/schema/", {"format": "json"})
        assert response.status_code == 200
        assert response.json()["openapi"].startswith("3.")

    def test_docs(self, agent):
        response = web(agent).get("/api/docs/")
        assert response.status_code == 200
        assert "swagger-ui" in response.content.decode()
        assert "/api/schema/" in response.content.decode()


class TestStatic:
    @pytest.mark.parametrize("name", ["css/app.css", "js/app.js", "vendor/htmx/htmx.min.js"])
    def test_files_exist(self, name):
        found = finders.find(name)
        assert found, name
        assert Path(found).stat().st_size > 0
        assert Path(found).is_relative_to(Path(settings.BASE_DIR) / "static")

    def test_every_file_the_base_template_loads_exists(self, alice):
        for path in ("/login/", "/portal/"):
            client = Client() if path == "/login/" else web(alice)
            body = client.get(path).content.decode()
            referenced = re.findall(r'(?:href|src)="/static/([^"]+)"', body)
            assert {"css/app.css", "js/app.js", "vendor/htmx/htmx.min.js"} <= set(referenced)
            for name in referenced:
                assert finders.find(name), name


class TestAdmin:
    def test_administrator_reaches_the_admin(self, admin_user):
        response = web(admin_user).get("/admin/")
        assert response.status_code == 200
        assert "ITSM administration" in response.content.decode()

    def test_agent_without_staff_is_sent_to_the_admin_login(self, agent):
        assert not agent.is_staff
        response = web(agent).get("/admin/")
        assert response.status_code == 302
        assert urlparse(response.url).path == "/admin/login/"

    def test_workspace_links_to_the_admin_only_for_staff(self, admin_user, agent):
        assert 'href="/admin/"' in web(admin_user).get("/incidents/").content.decode()
        assert 'href="/admin/"' not in web(agent).get("/incidents/").content.decode()


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        ({"days": 5}, "5 days"),
        ({"days": 1, "hours": 4}, "1 day 4 hours"),
        ({"hours": 8}, "8 hours"),
        ({"minutes": 30}, "30 minutes"),
        ({"seconds": 20}, "less than a minute"),
    ],
)
def test_durations_read_as_people_say_them(delta, said):
    from datetime import timedelta

    from itsm.core.templatetags.itsm import duration

    assert duration(timedelta(**delta)) == said
