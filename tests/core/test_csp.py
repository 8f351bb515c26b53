"""The Content-Security-Policy header on every kind of answer, and the API schema and docs
for signed-in people only unless ``API_DOCS_PUBLIC`` (the browser side of the policy is
tests/browser/test_csp.py)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import web

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def policy(response) -> dict:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_pages_for_anonymous_people_carry_the_policy(client, path):
    directives = policy(client.get(path))
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_a_page_nonce_is_in_the_header_and_on_its_scripts(agent):
    response = web(agent).get("/incidents/")
    nonce = re.search(r"'nonce-([^']+)'", policy(response)["script-src"]).group(1)
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts if "htmx" in tag)
    # A new nonce for every answer.
    again = web(agent).get("/incidents/")
    assert nonce not in again["Content-Security-Policy"]


def test_the_admin_and_the_api_docs_carry_the_policy(admin_user, agent):
    assert "style-src" in policy(web(admin_user).get("/admin/accounts/user/"))
    docs = web(agent).get("/api/docs/")
    assert docs.status_code == 200
    assert policy(docs)["script-src"].startswith("'self'")
    html = docs.content.decode()
    assert "<style" not in html and re.search(r"<script>", html) is None
    script = web(agent).get("/api/docs/?script")
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()


def test_the_browsable_api_alone_allows_style_attributes(agent):
    """REST framework's browsable API lays out with style attributes: its pages allow
    those (style-src-attr) and nothing more; every other answer keeps the strict policy."""
    browsable = web(agent).get("/api/v1/incidents/", HTTP_ACCEPT="text/html")
    assert browsable.status_code == 200 and b"<html" in browsable.content
    directives = policy(browsable)
    assert directives["style-src-attr"] == "'unsafe-inline'"
    assert directives["style-src"] == "'self'" and "unsafe" not in directives["script-src"]
    html = browsable.content.decode()
    assert "<style" not in html and "/static/css/api-code.css" in html
    for response in (
        web(agent).get("/api/v1/incidents/", HTTP_ACCEPT="application/json"),
        web(agent).get("/incidents/"),
    ):
        assert "style-src-attr" not in policy(response)
        assert "unsafe" not in response["Content-Security-Policy"]


def test_no_template_has_inline_script_style_or_handlers():
    """What the browser test proves page by page, checked over every template file."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = re.sub(r"{#.*?#}|{% comment %}.*?{% endcomment %}", "", path.read_text(), flags=re.S)
        if (
            re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
            or re.search(r"<style\b", text)
            or re.search(r"\sstyle\s*=", text)
            or re.search(r"\son[a-z]+\s*=\s*[\"']", text)
            or "hx-on" in text
            or "javascript:" in text
        ):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == []


class TestApiDocsAccess:
    def test_anonymous_people_get_no_schema(self, client):
        response = client.get("/api/schema/")
        assert response.status_code in (401, 403)
        assert "openapi" not in response.content.decode()

    def test_anonymous_people_are_sent_to_sign_in_from_the_docs(self, client):
        response = client.get("/api/docs/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=/api/docs/")
        assert client.get("/api/docs/?script").status_code == 302

    @pytest.mark.parametrize("who", ["agent", "alice"])
    def test_signed_in_people_get_the_schema(self, request, who):
        response = web(request.getfixturevalue(who)).get("/api/schema/")
        assert response.status_code == 200
        assert response.content.decode().startswith("openapi: 3")

    def test_a_token_gets_the_schema(self, api_as, agent):
        assert api_as(agent).get("/api/schema/").status_code == 200

    def test_public_by_setting(self, client, settings):
        settings.API_DOCS_PUBLIC = True
        assert client.get("/api/schema/").status_code == 200
        assert client.get("/api/docs/").status_code == 200
