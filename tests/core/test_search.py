"""Full-text search across kinds: what each person may find, ranking, the API and the
screens. Runs on SQLite (word matching) and PostgreSQL (ranked full-text search)."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from incidents import services as incident_services
from itsm.core import search
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db


@pytest.fixture
def incidents(agent, alice, bob, priority_matrix):
    made = {
        "vpn": factories.incident(
            alice, actor=agent, title="VPN drops every hour", description="Tunnel resets."
        ),
        "printer": factories.incident(
            bob, actor=agent, title="Printer jams", description="The VPN is fine, paper is not."
        ),
        "mail": factories.incident(bob, actor=agent, title="Outlook crashes on start"),
    }
    # A work note with a word nobody else uses: never findable.
    incident_services.comment(made["vpn"], agent, "Password is hunter2zebra", internal=True)
    return made


def titles(hits):
    return [h.title for h in hits if h.kind == "incidents"]


def test_staff_find_every_incident_best_first(agent, incidents):
    found = titles(search.search(agent, "vpn"))
    assert set(found) == {"VPN drops every hour", "Printer jams"}
    if connection.vendor == "postgresql":
        # The title weighs more than the description.
        assert found[0] == "VPN drops every hour"


def test_end_users_find_only_their_own_incidents(alice, bob, incidents):
    assert titles(search.search(alice, "vpn")) == ["VPN drops every hour"]
    assert titles(search.search(bob, "vpn")) == ["Printer jams"]
    assert titles(search.search(alice, "outlook")) == []


def test_work_notes_are_never_searched(agent, alice, incidents):
    assert search.search(agent, "hunter2zebra") == []
    assert search.search(alice, "hunter2zebra") == []


def test_empty_or_symbol_only_queries_find_nothing(agent, incidents):
    assert search.search(agent, "") == []
    assert search.search(agent, "&|!():*") == []


def test_odd_text_is_safe(agent, incidents):
    # The text is always a bound parameter; suggestions keep only word characters.
    hits = search.search(agent, "vpn' OR 1=1 --")
    assert all("vpn" in (h.title + h.summary).lower() for h in hits)
    search.suggest(agent, "vpn ) | ( :* ! '")


def test_api_search(api_as, alice, agent, incidents):
    response = api_as(alice).get("/api/v1/search/", {"q": "vpn"})
    assert response.status_code == 200
    assert [r["title"] for r in response.data["results"] if r["kind"] == "incidents"] == [
        "VPN drops every hour"
    ]
    hit = response.data["results"][0]
    assert hit["url"] == f"/portal/issues/{incidents['vpn'].number}/"
    assert hit["number"] == incidents["vpn"].number
    staff = api_as(agent).get("/api/v1/search/", {"q": "vpn", "kind": "incidents"})
    assert staff.data["results"][0]["url"].startswith("/incidents/")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": "  "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "vpn", "limit": 0}, "limit"),
        ({"q": "vpn", "kind": "spells"}, "kind"),
    ],
)
def test_api_search_bad_input(api_as, agent, params, field):
    response = api_as(agent).get("/api/v1/search/", params)
    assert response.status_code == 400
    assert field in response.data


def test_api_search_needs_a_login():
    assert APIClient().get("/api/v1/search/", {"q": "vpn"}).status_code == 401
    assert APIClient().get("/api/v1/search/suggestions/", {"q": "vpn"}).status_code == 401


def test_search_query_count_is_one_per_kind(
    api_as, agent, incidents, django_assert_max_num_queries
):
    for i in range(10):
        factories.incident(agent, actor=agent, title=f"VPN flaps {i}")
    kinds = len(search.registry.sources)
    client = api_as(agent)
    with django_assert_max_num_queries(kinds + 2):
        response = client.get("/api/v1/search/", {"q": "vpn"})
    assert len(response.data["results"]) >= 12


def test_search_page(agent, alice, incidents):
    html = page(web(agent).get("/search/", {"q": "vpn"}))
    assert "VPN drops every hour" in html and "Printer jams" in html
    assert web(alice).get("/search/", {"q": "vpn"}).status_code == 403


def test_suggestions_fragment(alice, incidents):
    response = web(alice).get("/suggestions/", {"title": "vp"})
    assert response.status_code == 200
    # Incidents are not offered as suggestions (articles and known errors are).
    assert "VPN drops every hour" not in page(response)


def test_report_form_asks_for_suggestions_and_keeps_a_title(alice):
    html = page(web(alice).get("/portal/issues/new/", {"title": "Printer is offline"}))
    assert 'hx-get="/suggestions/"' in html
    assert 'value="Printer is offline"' in html
    assert 'id="suggestions"' in html


def test_suggestions_put_articles_matching_every_word_first(agent, manager, alice):
    from practices.knowledge import services as knowledge
    from practices.knowledge.models import KnowledgeCategory
    from tests.knowledge.conftest import publish

    category = KnowledgeCategory.objects.create(name="Office")
    for title in ("Outlook is slow", "Outlook crashes on start", "Teams crashes"):
        article = knowledge.create_article(
            agent,
            {
                "title": title,
                "body": f"What to do: {title}.",
                "audience": "portal",
                "category": category,
            },
        )
        publish(article, agent, manager)
    titles = [hit.title for hit in search.suggest(alice, "outlook cra")]
    assert titles[0] == "Outlook crashes on start"
    assert set(titles[1:]) == {"Outlook is slow", "Teams crashes"}
    assert [h.title for h in search.suggest(alice, "outlook cra", limit=1)] == [
        "Outlook crashes on start"
    ]


def test_an_employee_never_finds_what_is_not_theirs_to_read(
    api_as, agent, manager, alice, bob, service_desk, priority_matrix
):
    """One word in every kind of text; the employee finds only what they may read."""
    from practices.knowledge import services as knowledge
    from practices.knowledge.models import KnowledgeCategory
    from tests.knowledge.conftest import publish
    from tests.problems.conftest import known_error

    word = "zeppelin"
    category = KnowledgeCategory.objects.create(name="Office")

    def article(title, audience, published=True):
        made = knowledge.create_article(
            agent,
            {"title": f"{title} {word}", "body": word, "audience": audience, "category": category},
        )
        return publish(made, agent, manager) if published else made

    article("Public", "portal")
    article("Internal", "internal")
    article("Draft", "portal", published=False)
    revised = article("Revised", "portal")
    knowledge.update_article(knowledge.revise(revised, agent), agent, {"body": "secretword"})
    own = factories.incident(alice, actor=agent, title=f"Mine {word}")
    factories.incident(bob, actor=agent, title=f"Bob's {word}")
    incident_services.comment(own, agent, "internal secretword", internal=True)
    known_error(
        agent,
        service_desk,
        workaround=f"Public fix {word}",
        public=True,
        title=f"Known public {word}",
    )
    known_error(
        agent, service_desk, workaround=f"Private fix {word}", title=f"Known private {word}"
    )

    found = api_as(alice).get("/api/v1/search/", {"q": word}).data["results"]
    assert sorted((r["kind"], r["title"]) for r in found) == [
        ("articles", f"Public {word}"),
        ("articles", f"Revised {word}"),
        ("incidents", f"Mine {word}"),
        ("known_errors", f"Known public {word}"),
    ]
    assert api_as(alice).get("/api/v1/search/", {"q": "secretword"}).data["results"] == []
    staff = api_as(agent).get("/api/v1/search/", {"q": word}).data["results"]
    assert len(staff) > len(found)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "mail", "limit": "²"}, "limit"),
        ({"q": "mail\x00x"}, "q"),
        ({"q": "mail", "limit": "9" * 30}, "limit"),
    ],
)
def test_odd_numbers_and_null_characters_are_a_400(api_as, alice, params, field):
    for url in ("/api/v1/search/", "/api/v1/search/suggestions/"):
        response = api_as(alice).get(url, params)
        assert response.status_code == 400, (url, params)
        assert field in response.data
