"""The articles and categories API: permissions on every endpoint, If-Match, bad input,
versions, and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from practices.knowledge import services
from practices.knowledge.models import Article, ArticleVersion, KnowledgeCategory

from .conftest import publish


def test_staff_create_and_patch_with_if_match(agent, api_as, vpn):
    client = api_as(agent)
    response = client.post(
        "/api/v1/articles/",
        {"title": "Reset a password", "body": "Use the portal.", "category": vpn.pk},
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["state"] == "draft" and data["owner"] == "agent" and data["published"] is None
    etag = response["ETag"]
    url = f"/api/v1/articles/{data['number']}/"
    response = client.patch(url, {"summary": "Self-service"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200 and response.json()["summary"] == "Self-service"
    response = client.patch(url, {"summary": "Stale"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert Article.objects.get().summary == "Self-service"


def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(agent, api_as, alice):
    client = api_as(agent)
    for payload, field in [
        ({"title": ""}, "title"),
        ({"title": "x", "audience": "everyone"}, "audience"),
        ({"title": "x", "category": 999}, "category"),
        ({"title": "x", "owner": "alice"}, "owner"),
        ({"title": "x", "state": "published"}, "state"),
        ({"title": "x", "review_date": "soon"}, "review_date"),
    ]:
        response = client.post("/api/v1/articles/", payload)
        assert response.status_code == 400, payload
        assert field in response.json(), (payload, response.json())
    assert not Article.objects.exists()


def test_workflow_actions(agent, manager, api_as, draft):
    url = f"/api/v1/articles/{draft.number}"
    assert api_as(agent).post(f"{url}/publish/").status_code == 400
    response = api_as(agent).post(f"{url}/submit/", {"note": "Ready"})
    assert response.status_code == 200 and response.json()["state"] == "in_review"
    response = api_as(agent).post(f"{url}/publish/")
    assert response.status_code == 400 and "state" in response.json()
    response = api_as(manager).post(f"{url}/publish/", HTTP_IF_MATCH='"KB0000001-v1"')
    assert response.status_code == 412
    response = api_as(manager).post(f"{url}/publish/")
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "published" and data["published"]["version"] == 1
    response = api_as(agent).patch(f"{url}/", {"state": "draft", "body": "v2 text"})
    assert response.status_code == 200 and response.json()["published"]["body"] != "v2 text"
    api_as(agent).post(f"{url}/submit/")
    api_as(manager).post(f"{url}/publish/")
    versions = api_as(agent).get(f"{url}/versions/").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert api_as(agent).get(f"{url}/versions/2/").json()["body"] == "v2 text"
    assert api_as(agent).get(f"{url}/versions/3/").status_code == 404
    assert api_as(manager).post(f"{url}/retire/").json()["state"] == "retired"


def test_send_back(agent, manager, api_as, draft):
    url = f"/api/v1/articles/{draft.number}"
    api_as(agent).post(f"{url}/submit/")
    response = api_as(manager).post(f"{url}/send-back/", {"note": "More detail"})
    assert response.status_code == 200 and response.json()["state"] == "draft"


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("post", "/api/v1/articles/", {"title": "x"}),
        ("patch", "/api/v1/articles/{n}/", {"title": "x"}),
        ("post", "/api/v1/articles/{n}/submit/", {}),
        ("post", "/api/v1/articles/{n}/publish/", {}),
        ("post", "/api/v1/articles/{n}/send-back/", {}),
        ("post", "/api/v1/articles/{n}/revise/", {}),
        ("post", "/api/v1/articles/{n}/retire/", {}),
        ("get", "/api/v1/articles/{n}/versions/", None),
        ("get", "/api/v1/articles/{n}/versions/1/", None),
        ("get", "/api/v1/articles/{n}/timeline/", None),
        ("get", "/api/v1/articles/{n}/comments/", None),
        ("post", "/api/v1/articles/{n}/comments/", {"body": "hi"}),
        ("get", "/api/v1/articles/{n}/links/", None),
        ("post", "/api/v1/articles/{n}/links/", {"target": "KB0001001"}),
    ],
)
def test_end_users_only_read(published, api_as, alice, method, path, data):
    response = getattr(api_as(alice), method)(path.format(n=published.number), data)
    assert response.status_code == 403, response.content
    published.refresh_from_db()
    assert published.title == "Connect to the VPN" and published.state == "published"


def test_end_users_read_what_they_may(published, api_as, alice):
    assert api_as(alice).get("/api/v1/articles/").status_code == 200
    assert api_as(alice).get(f"/api/v1/articles/{published.number}/").status_code == 200


def test_anonymous_gets_nothing(published, client):
    for path in [
        "/api/v1/articles/",
        f"/api/v1/articles/{published.number}/",
        "/api/v1/knowledge-categories/",
    ]:
        assert client.get(path).status_code in (401, 403)


def test_categories(api_as, alice, agent, vpn):
    KnowledgeCategory.objects.create(name="Old", active=False)
    names = [
        c["name"] for c in api_as(alice).get("/api/v1/knowledge-categories/").json()["results"]
    ]
    assert names == ["VPN"]
    names = [
        c["name"] for c in api_as(agent).get("/api/v1/knowledge-categories/").json()["results"]
    ]
    assert names == ["VPN", "Old"]
    assert api_as(agent).post("/api/v1/knowledge-categories/", {"name": "x"}).status_code == 405


def test_filters(published, draft, api_as, agent, vpn):
    client = api_as(agent)
    other = services.create_article(agent, {"title": "Internal", "audience": "internal"})
    assert [r["number"] for r in client.get("/api/v1/articles/?state=draft").json()["results"]] == [
        other.number
    ]
    assert [
        r["number"] for r in client.get("/api/v1/articles/?audience=internal").json()["results"]
    ] == [other.number]
    assert [
        r["number"] for r in client.get(f"/api/v1/articles/?category={vpn.pk}").json()["results"]
    ] == [published.number]
    assert client.get("/api/v1/articles/?review_due=true").json()["results"] == []
    assert client.get("/api/v1/articles/?owner=me").status_code == 200
    assert client.get("/api/v1/articles/?state=bogus").status_code == 400


def _make(agent, manager, vpn, n):
    for i in range(n):
        article = services.create_article(
            agent, {"title": f"Article {i}", "body": "text", "category": vpn}
        )
        publish(article, agent, manager)


@pytest.mark.parametrize("who", ["agent", "alice"])
def test_list_query_count_is_constant(agent, manager, alice, vpn, api_as, who):
    client = api_as({"agent": agent, "alice": alice}[who])
    _make(agent, manager, vpn, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/articles/").status_code == 200
    _make(agent, manager, vpn, 5)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/articles/").json()["results"]) == 7
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_versions_query_count_is_constant(published, agent, manager, api_as):
    client = api_as(agent)
    url = f"/api/v1/articles/{published.number}/versions/"
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(3):
        services.revise(Article.objects.get(pk=published.pk), agent)
        publish(Article.objects.get(pk=published.pk), agent, manager)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()) == 4
    assert len(many) == len(few)
    assert ArticleVersion.objects.count() == 4


def test_schema_has_the_article_endpoints(agent, api_as):
    schema = api_as(agent).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in [
        "/api/v1/articles/",
        "/api/v1/articles/{number}/",
        "/api/v1/articles/{number}/publish/",
        "/api/v1/articles/{number}/versions/",
        "/api/v1/articles/{number}/versions/{version_number}/",
        "/api/v1/articles/{number}/feedback/",
        "/api/v1/knowledge-categories/",
    ]:
        assert path in paths, path


def test_a_step_from_the_wrong_state_is_a_400_naming_the_state(agent, manager, api_as, published):
    """Publishing a published article is refused, not a silent 200; sending one back does
    not revise it; the article and its versions stay as they were."""
    url = f"/api/v1/articles/{published.number}"
    response = api_as(manager).post(f"{url}/publish/")
    assert response.status_code == 400
    assert response.json()["state"] == [
        f"{published.number} is published: only an article in review can be published."
    ]
    response = api_as(manager).post(f"{url}/send-back/")
    assert response.status_code == 400
    assert "is published" in response.json()["state"][0]
    assert api_as(agent).post(f"{url}/submit/").status_code == 400
    article = Article.objects.get(pk=published.pk)
    assert article.state == "published" and article.revision_started_at is None
    assert article.version == published.version
    assert ArticleVersion.objects.filter(article=article).count() == 1
    # The steps still take their own moves.
    assert api_as(agent).post(f"{url}/revise/").json()["state"] == "draft"
    response = api_as(agent).post(f"{url}/revise/")
    assert response.status_code == 400
    assert "is draft: only a published article can be revised" in response.json()["state"][0]
