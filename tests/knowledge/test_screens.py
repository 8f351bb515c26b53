"""Workspace and portal screens: permissions, forms, preview, diff and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from practices.knowledge import services
from practices.knowledge.models import Article
from tests.factories import html_form, page, web

from .conftest import publish

STAFF_PAGES = [
    "/knowledge/",
    "/knowledge/new/",
    "/knowledge/review/",
    "/knowledge/{n}/",
    "/knowledge/{n}/edit/",
    "/knowledge/{n}/diff/",
]
STAFF_POSTS = [
    ("/knowledge/preview/", {"body": "x"}),
    ("/knowledge/{n}/state/", {"state": "draft"}),
    ("/knowledge/{n}/comment/", {"body": "x"}),
    ("/knowledge/{n}/link/", {"record": "KB0001001"}),
    ("/knowledge/{n}/feedback/", {"helpful": "yes"}),
    ("/knowledge/{n}/edit/", {"title": "Hacked"}),
]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_workspace_pages_are_for_staff(published, alice, agent, path):
    url = path.format(n=published.number)
    assert web(alice).get(url).status_code == 403
    assert web(agent).get(url).status_code == 200


@pytest.mark.parametrize("path, data", STAFF_POSTS)
def test_workspace_writes_are_for_staff(published, alice, path, data):
    response = web(alice).post(path.format(n=published.number), data)
    assert response.status_code in (403, 404)
    published.refresh_from_db()
    assert (published.title, published.state, published.helpful_yes) == (
        "Connect to the VPN",
        "published",
        0,
    )


def test_anonymous_is_sent_to_sign_in(published, client):
    for url in [
        "/knowledge/",
        f"/knowledge/{published.number}/",
        "/portal/knowledge/",
        f"/portal/knowledge/{published.number}/",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_create_edit_and_publish_through_the_screens(agent, manager, vpn):
    client = web(agent)
    form = html_form(page(client.get("/knowledge/new/")), "")
    form.update(title="Map a network drive", body="Open **Explorer**", category=str(vpn.pk))
    response = client.post("/knowledge/new/", form)
    assert response.status_code == 302
    article = Article.objects.get()
    html = page(client.get(f"/knowledge/{article.number}/"))
    assert "<strong>Explorer</strong>" in html
    edit = html_form(page(client.get(f"/knowledge/{article.number}/edit/")), "")
    edit["summary"] = "Drive letters for shares"
    assert client.post(f"/knowledge/{article.number}/edit/", edit).status_code == 302
    html = page(client.get(f"/knowledge/{article.number}/"))
    submit = html_form(html, f"/knowledge/{article.number}/state/", state="in_review")
    client.post(f"/knowledge/{article.number}/state/", submit)
    assert article.number in page(web(manager).get("/knowledge/review/"))
    html = page(web(manager).get(f"/knowledge/{article.number}/"))
    publish_form = html_form(html, f"/knowledge/{article.number}/state/", state="published")
    web(manager).post(f"/knowledge/{article.number}/state/", publish_form)
    article.refresh_from_db()
    assert (article.state, article.published_summary) == ("published", "Drive letters for shares")


def test_bad_form_input_is_a_400_with_the_field_and_saves_nothing(agent):
    response = web(agent).post("/knowledge/new/", {"title": "", "audience": "portal"})
    assert response.status_code == 400
    assert "This field is required." in page(response)
    assert not Article.objects.exists()


def test_editing_a_stale_version_is_a_conflict(draft, agent, agent2):
    form = html_form(page(web(agent).get(f"/knowledge/{draft.number}/edit/")), "")
    services.update_article(draft, agent2, {"title": "Changed meanwhile"})
    form["title"] = "Mine"
    response = web(agent).post(f"/knowledge/{draft.number}/edit/", form)
    assert response.status_code == 409
    assert Article.objects.get().title == "Changed meanwhile"


def test_revise_keeps_readers_on_the_published_text(published, agent, alice):
    html = page(web(agent).get(f"/knowledge/{published.number}/"))
    form = html_form(html, f"/knowledge/{published.number}/state/", state="draft")
    response = web(agent).post(f"/knowledge/{published.number}/state/", form)
    assert response["Location"] == f"/knowledge/{published.number}/edit/"
    edit = html_form(page(web(agent).get(response["Location"])), "")
    edit["body"] = "Draft only words"
    web(agent).post(f"/knowledge/{published.number}/edit/", edit)
    assert "Draft only words" not in page(web(alice).get(f"/portal/knowledge/{published.number}/"))
    diff = page(web(agent).get(f"/knowledge/{published.number}/diff/"))
    assert "Draft only words" in diff and "Version 1" in diff and "Working copy" in diff
    unified = page(web(agent).get(f"/knowledge/{published.number}/diff/?a=1&b=draft&view=unified"))
    assert "+Draft only words" in unified
    assert web(agent).get(f"/knowledge/{published.number}/diff/?a=7").status_code == 404


def test_markdown_preview_is_sanitised(agent):
    response = web(agent).post(
        "/knowledge/preview/", {"body": "**hi** <script>x()</script>"}, HTTP_HX_REQUEST="true"
    )
    assert "<strong>hi</strong>" in page(response) and "<script" not in page(response)


def test_list_filters_and_htmx_table(published, agent):
    draft = services.create_article(agent, {"title": "Still a draft"})
    client = web(agent)
    html = page(client.get("/knowledge/?state=draft", HTTP_HX_REQUEST="true"))
    assert "<html" not in html and draft.number in html
    html = page(client.get("/knowledge/?state=published"))
    assert published.number in html
    assert page(client.get("/knowledge/?search=nothing-like-it")).count("KB000") == 0


def test_portal_home_and_panel(published, alice):
    html = page(web(alice).get("/portal/"))
    assert 'action="/portal/knowledge/"' in html and "Connect to the VPN" in html
    html = page(web(alice).get("/portal/knowledge/"))
    assert "VPN" in html and "Connect to the VPN" in html
    html = page(web(alice).get("/portal/knowledge/?q=client"))
    assert f"/portal/knowledge/{published.number}/" in html


def _articles(agent, manager, vpn, n):
    for i in range(n):
        article = services.create_article(
            agent, {"title": f"Article {i}", "body": "text", "category": vpn}
        )
        publish(article, agent, manager)


@pytest.mark.parametrize(
    "who, url",
    [
        ("agent", "/knowledge/"),
        ("agent", "/knowledge/review/"),
        ("alice", "/portal/knowledge/"),
        ("alice", "/portal/knowledge/?category={c}"),
        ("alice", "/portal/knowledge/?q=article"),
        ("alice", "/portal/"),
    ],
)
def test_list_pages_have_a_constant_query_count(agent, manager, alice, vpn, who, url):
    client = web({"agent": agent, "alice": alice}[who])
    url = url.format(c=vpn.pk)
    _articles(agent, manager, vpn, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _articles(agent, manager, vpn, 5)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_article_pages_have_a_constant_query_count(published, agent, manager, alice):
    def load():
        with CaptureQueriesContext(connection) as workspace:
            assert web(agent).get(f"/knowledge/{published.number}/").status_code == 200
        with CaptureQueriesContext(connection) as portal:
            assert web(alice).get(f"/portal/knowledge/{published.number}/").status_code == 200
        with CaptureQueriesContext(connection) as diff:
            assert web(agent).get(f"/knowledge/{published.number}/diff/").status_code == 200
        return len(workspace), len(portal), len(diff)

    few = load()
    for i in range(3):
        article = services.revise(Article.objects.get(pk=published.pk), agent)
        services.update_article(article, agent, {"body": f"v{i}"})
        publish(Article.objects.get(pk=published.pk), agent, manager)
        services.give_feedback(published, manager if i else alice, bool(i), f"c{i}")
    many = load()
    assert many == few
