"""An end user never sees an internal article, a draft, or a revision's text: not through
the API, the pages, search or attachments."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from itsm.core.search import search, suggest
from practices.knowledge import services
from practices.knowledge.models import Article
from tests.factories import page, web

from .conftest import publish


@pytest.fixture
def world(agent, manager, vpn):
    def make(title, body, audience="portal", state="published"):
        article = services.create_article(
            agent,
            {"title": title, "body": body, "category": vpn, "audience": audience, "keywords": ""},
        )
        if state in ("published", "revising"):
            article = publish(article, agent, manager)
        if state == "revising":
            article = services.update_article(
                article, agent, {"state": "draft", "title": "Zebra draft", "body": "zebra secret"}
            )
        if state == "in_review":
            article = services.submit(article, agent)
        return article

    return {
        "portal": make("Printer queue", "Restart the printer spooler"),
        "internal": make("Firewall rules", "Internal firewall runbook", audience="internal"),
        "draft": make("Unicorn draft", "unicorn words", state="draft"),
        "review": make("Griffin review", "griffin words", state="in_review"),
        "revising": make("Wi-Fi setup", "Join the office network", state="revising"),
        "retired": services.retire(make("Old fax", "fax words"), manager),
    }


def test_api_lists_only_published_portal_articles_with_published_text(world, api_as, alice):
    data = api_as(alice).get("/api/v1/articles/").json()
    numbers = {row["number"] for row in data["results"]}
    assert numbers == {world["portal"].number, world["revising"].number}
    revising = next(r for r in data["results"] if r["number"] == world["revising"].number)
    assert revising["title"] == "Wi-Fi setup" and revising["state"] == "published"
    assert "zebra" not in str(data).lower()
    assert "owner" not in revising and "allowed_states" not in revising


@pytest.mark.parametrize("key", ["internal", "draft", "review", "retired"])
def test_api_and_pages_hide_what_end_users_may_not_read(world, api_as, alice, key):
    number = world[key].number
    assert api_as(alice).get(f"/api/v1/articles/{number}/").status_code == 404
    assert web(alice).get(f"/portal/knowledge/{number}/").status_code == 404
    assert (
        web(alice).post(f"/portal/knowledge/{number}/feedback/", {"helpful": "yes"}).status_code
        == 404
    )


def test_api_search_filter_never_matches_draft_text_for_end_users(world, api_as, alice, agent):
    assert api_as(alice).get("/api/v1/articles/?search=zebra").json()["results"] == []
    found = api_as(agent).get("/api/v1/articles/?search=zebra").json()["results"]
    assert [r["number"] for r in found] == [world["revising"].number]


def test_search_finds_published_text_only(world, alice, agent):
    assert search(alice, "zebra", kinds=["articles"]) == []
    assert suggest(alice, "zebr") == []
    assert search(alice, "unicorn", kinds=["articles"]) == []
    assert search(alice, "firewall", kinds=["articles"]) == []
    assert [h.obj.number for h in search(alice, "printer", kinds=["articles"])] == [
        world["portal"].number
    ]
    hits = search(alice, "office network", kinds=["articles"])
    assert [h.title for h in hits] == ["Wi-Fi setup"]
    assert hits[0].url == f"/portal/knowledge/{world['revising'].number}/"
    # Staff find internal articles (at the workspace page), never drafts by text either.
    staff = search(agent, "firewall", kinds=["articles"])
    assert staff[0].url == f"/knowledge/{world['internal'].number}/"
    assert search(agent, "unicorn", kinds=["articles"]) == []


def test_portal_pages_show_the_published_text(world, alice):
    html = page(web(alice).get(f"/portal/knowledge/{world['revising'].number}/"))
    assert "Join the office network" in html and "zebra" not in html.lower()
    home = page(web(alice).get("/portal/knowledge/?q=network"))
    assert "Wi-Fi setup" in home and "Zebra" not in home
    listing = page(web(alice).get(f"/portal/knowledge/?category={world['portal'].category_id}"))
    assert "Printer queue" in listing and "Firewall" not in listing and "Unicorn" not in listing


def test_attachments_of_readable_articles_only_and_not_internal(world, agent, alice, api_as):
    public = services.attach(
        world["portal"], agent, SimpleUploadedFile("steps.txt", b"steps"), internal=False
    )
    hidden = services.attach(
        world["portal"], agent, SimpleUploadedFile("notes.txt", b"notes"), internal=True
    )
    of_internal = services.attach(
        world["internal"], agent, SimpleUploadedFile("fw.txt", b"fw"), internal=False
    )
    listed = api_as(alice).get(f"/api/v1/articles/{world['portal'].number}/attachments/").json()
    assert [a["filename"] for a in listed] == ["steps.txt"]
    client = web(alice)
    assert client.get(f"/attachments/{public.pk}/").status_code == 200
    assert client.get(f"/attachments/{hidden.pk}/").status_code == 404
    assert client.get(f"/attachments/{of_internal.pk}/").status_code == 404
    html = page(client.get(f"/portal/knowledge/{world['portal'].number}/"))
    assert "steps.txt" in html and "notes.txt" not in html
    assert (
        api_as(alice)
        .post(
            f"/api/v1/articles/{world['portal'].number}/attachments/",
            {"file": SimpleUploadedFile("x.txt", b"x")},
            format="multipart",
        )
        .status_code
        == 403
    )


def test_staff_see_everything(world, agent, api_as):
    numbers = {r["number"] for r in api_as(agent).get("/api/v1/articles/").json()["results"]}
    assert numbers == {a.number for a in world.values()}
    assert Article.objects.visible_to(agent).count() == 6


def test_a_linked_article_shows_readers_its_published_title(
    api_as, agent, manager, alice, published, priority_matrix
):
    """An incident's links show its caller the article as published, not a revision."""
    from itsm.core import services as core
    from practices.knowledge import services
    from tests import factories

    incident = factories.incident(alice, actor=agent, title="VPN down")
    core.link_records(incident, published, agent, "resolved_by")
    draft = services.revise(published, agent)
    services.update_article(draft, agent, {"title": "SECRET draft title"})
    links = api_as(alice).get(f"/api/v1/incidents/{incident.number}/links/").data
    assert [(link["number"], link["title"], link["state"]) for link in links] == [
        (published.number, "Connect to the VPN", "published")
    ]
    staff = api_as(agent).get(f"/api/v1/incidents/{incident.number}/links/").data
    assert staff[0]["title"] == "SECRET draft title" and staff[0]["state"] == "draft"


def test_readers_cannot_sort_or_filter_by_what_a_revision_changes(
    api_as, agent, manager, alice, published, vpn
):
    from practices.knowledge import services
    from tests.knowledge.conftest import publish

    other = services.create_article(
        agent, {"title": "Printer setup", "body": "Add it.", "category": vpn}
    )
    publish(other, agent, manager)
    draft = services.revise(published, agent)
    services.update_article(draft, agent, {"title": "SECRET draft title"})
    client = api_as(alice)
    response = client.get("/api/v1/articles/", {"ordering": "-title", "page_size": 1})
    assert response.status_code == 200
    # An unknown ordering is ignored: the default order, nothing sorted by the draft title.
    assert "SECRET" not in str(response.data)
    import base64
    import json

    cursor = response.data["next"].split("cursor=")[1].split("&")[0]
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    assert "SECRET" not in decoded and json.loads(decoded)
    # State, owner and team filters are not offered to readers: ignored.
    everything = client.get("/api/v1/articles/").data["results"]
    assert client.get("/api/v1/articles/", {"state": "draft"}).data["results"] == everything


def test_files_added_during_a_revision_wait_for_its_publication(
    api_as, agent, manager, alice, published
):
    from tests.knowledge.conftest import publish

    before = services.attach(published, agent, SimpleUploadedFile("v1.txt", b"one"))
    draft = services.revise(published, agent)
    during = services.attach(draft, agent, SimpleUploadedFile("draft.png", b"new"))
    client = api_as(alice)
    listed = client.get(f"/api/v1/articles/{published.number}/attachments/").data
    assert [a["filename"] for a in listed] == ["v1.txt"]
    assert client.get(f"/api/v1/attachments/{before.pk}/download/").status_code == 200
    assert client.get(f"/api/v1/attachments/{during.pk}/download/").status_code == 404
    publish(draft, agent, manager)
    assert client.get(f"/api/v1/attachments/{during.pk}/download/").status_code == 200
