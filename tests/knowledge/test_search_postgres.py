"""On PostgreSQL the search vector holds the published text, never a draft's."""

from django.db import connection

from itsm.core.search import search, suggest
from practices.knowledge import services
from tests.conftest import requires_postgres

from .conftest import publish

pytestmark = requires_postgres


def _vector_matches(article, word) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_vector @@ plainto_tsquery('english', %s) FROM knowledge_article "
            "WHERE id = %s",
            [word, article.pk],
        )
        return cursor.fetchone()[0]


def test_the_vector_follows_publication(agent, manager, alice, vpn):
    article = services.create_article(
        agent, {"title": "Printer jams", "body": "Open tray two", "category": vpn}
    )
    assert not _vector_matches(article, "printer")  # a draft is not indexed
    article = publish(article, agent, manager)
    assert _vector_matches(article, "printer") and _vector_matches(article, "tray")
    article = services.update_article(
        article, agent, {"state": "draft", "title": "Printer jams", "body": "Kangaroo paper"}
    )
    assert not _vector_matches(article, "kangaroo")
    assert search(alice, "kangaroo", kinds=["articles"]) == []
    assert suggest(alice, "kanga") == []
    hits = search(alice, "tray", kinds=["articles"])
    assert [h.obj.pk for h in hits] == [article.pk] and hits[0].rank > 0
    publish(article, agent, manager)
    assert [h.obj.pk for h in search(alice, "kangaroo", kinds=["articles"])] == [article.pk]
    assert search(alice, "tray", kinds=["articles"]) == []


def test_titles_rank_above_bodies(agent, manager, alice, vpn):
    body_only = publish(
        services.create_article(
            agent, {"title": "Something else", "body": "mentions outlook once", "category": vpn}
        ),
        agent,
        manager,
    )
    titled = publish(
        services.create_article(
            agent, {"title": "Outlook crashes", "body": "Restart it", "category": vpn}
        ),
        agent,
        manager,
    )
    assert [h.obj.pk for h in search(alice, "outlook", kinds=["articles"])] == [
        titled.pk,
        body_only.pk,
    ]
