"""Views, "was this helpful?" and deflection."""

from urllib.parse import parse_qs, urlparse

import pytest

from practices.knowledge import services
from practices.knowledge.kpis import knowledge_kpis
from practices.knowledge.models import Article, ArticleFeedback, Deflection
from tests.conftest import requires_postgres
from tests.factories import html_form, page, web


def test_views_are_counted(published, alice, agent):
    web(alice).get(f"/portal/knowledge/{published.number}/")
    web(alice).get(f"/portal/knowledge/{published.number}/")
    web(agent).get(f"/knowledge/{published.number}/")
    published.refresh_from_db()
    assert published.views == 3


def test_feedback_from_the_portal_counts_once_per_reader(published, alice, bob):
    client = web(alice)
    url = f"/portal/knowledge/{published.number}/feedback/"
    response = client.post(url, {"helpful": "no", "comment": "Step 2 is unclear"})
    assert response.status_code == 302
    client.post(url, {"helpful": "yes"})
    web(bob).post(url, {"helpful": "yes"})
    published.refresh_from_db()
    assert (published.helpful_yes, published.helpful_no) == (2, 0)
    assert ArticleFeedback.objects.filter(article=published).count() == 2
    feedback = ArticleFeedback.objects.get(article=published, user=alice)
    assert feedback.helpful is True and feedback.version == 1


def test_feedback_comment_reaches_the_owner_timeline(published, alice, agent):
    services.give_feedback(published, alice, False, "Screenshots are outdated")
    html = page(web(agent).get(f"/knowledge/{published.number}/"))
    assert "Screenshots are outdated" in html


def test_feedback_line_is_kept_as_a_sentence_each_reader_reads_in_their_language(published, alice):
    """The platform's words are stored as their message (translated when read), the
    reader's own words as they wrote them; the body stays English for search and exports."""
    from itsm.core.models import JournalEntry

    services.give_feedback(published, alice, False, "Screenshots are outdated")
    entry = JournalEntry.objects.filter(object_id=published.pk, kind="comment").get()
    assert entry.body == "Reader feedback (not helpful): Screenshots are outdated"
    assert entry.data["said"] == {
        "message": "Reader feedback (not helpful): %(comment)s",
        "values": {"comment": "Screenshots are outdated"},
    }
    assert entry.text == entry.body


def test_feedback_bad_input_saves_nothing(published, alice, api_as):
    response = api_as(alice).post(
        f"/api/v1/articles/{published.number}/feedback/", {"comment": "x"}
    )
    assert response.status_code == 400 and "helpful" in response.json()
    response = api_as(alice).post(
        f"/api/v1/articles/{published.number}/feedback/", {"helpful": True, "comment": "x" * 2001}
    )
    assert response.status_code == 400 and "comment" in response.json()
    assert not ArticleFeedback.objects.exists()
    response = web(alice).post(
        f"/portal/knowledge/{published.number}/feedback/", {"helpful": "maybe"}
    )
    assert response.status_code == 302
    assert not ArticleFeedback.objects.exists()


def test_feedback_through_the_api(published, alice, api_as):
    response = api_as(alice).post(
        f"/api/v1/articles/{published.number}/feedback/", {"helpful": True, "comment": "Great"}
    )
    assert response.status_code == 201
    assert response.json()["helpful"] is True
    published.refresh_from_db()
    assert published.helpful_yes == 1


def test_a_draft_cannot_be_rated(draft, agent, api_as):
    response = api_as(agent).post(f"/api/v1/articles/{draft.number}/feedback/", {"helpful": True})
    assert response.status_code == 400 and "helpful" in response.json()


def test_deflection_from_the_report_form(published, alice):
    client = web(alice)
    url = f"/portal/knowledge/{published.number}/?from=report&q=VPN+will+not+connect"
    html = page(client.get(url))
    assert "Did this solve your problem?" in html
    # "No, continue my report" goes back to the report form with the title kept.
    link = next(
        part.split('"')[0]
        for part in html.split('href="')[1:]
        if part.startswith("/portal/issues/new/?")
    )
    parsed = urlparse(link.replace("&amp;", "&"))
    assert parsed.path == "/portal/issues/new/"
    assert parse_qs(parsed.query) == {"title": ["VPN will not connect"]}
    # "Yes, I don't need to report it" records the deflection and goes home.
    form = html_form(html, f"/portal/knowledge/{published.number}/deflect/")
    response = client.post(f"/portal/knowledge/{published.number}/deflect/", form, follow=True)
    assert response.redirect_chain[-1][0] == "/portal/"
    assert "Glad it helped" in page(response)
    deflection = Deflection.objects.get()
    assert (deflection.article, deflection.user, deflection.query) == (
        published,
        alice,
        "VPN will not connect",
    )
    assert ("Issues deflected (all time)", "1") in knowledge_kpis()


def test_no_deflection_prompt_without_from_report(published, alice):
    html = page(web(alice).get(f"/portal/knowledge/{published.number}/"))
    assert "Did this solve your problem?" not in html


def test_kpis(published, alice):
    services.give_feedback(published, alice, True)
    kpis = dict(knowledge_kpis())
    assert kpis["Articles published"] == "1"
    assert kpis["Helpful"] == "100 % of 1 answers"


def test_deflecting_an_unreadable_article_is_404(draft, alice):
    response = web(alice).post(f"/portal/knowledge/{draft.number}/deflect/", {"q": "x"})
    assert response.status_code == 404
    assert not Deflection.objects.exists()
    assert Article.objects.get(pk=draft.pk).views == 0


def test_a_deflection_counts_once_per_reader_and_day(published, alice, bob):
    client = web(alice)
    url = f"/portal/knowledge/{published.number}/deflect/"
    # A control character is refused at the edge (400) and counts nothing.
    assert client.post(url, {"q": "vpn \x00drops"}).status_code == 400
    assert not Deflection.objects.exists()
    for _ in range(3):
        assert client.post(url, {"q": "vpn drops"}).status_code == 302
    web(bob).post(url, {"q": "vpn"})
    assert Deflection.objects.count() == 2
    assert Deflection.objects.get(user=alice).query == "vpn drops"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_answers_make_one_feedback(django_user_model):
    """Four first answers at once from one reader (four connections): one row, no error,
    the counters match it."""
    import threading

    from django.db import connection

    from practices.knowledge.models import KnowledgeCategory
    from tests.knowledge.conftest import publish

    author = django_user_model.objects.create(username="author", role="agent")
    reviewer = django_user_model.objects.create(username="reviewer", role="manager")
    reader = django_user_model.objects.create(username="reader")
    category = KnowledgeCategory.objects.create(name="VPN")
    article = services.create_article(
        author, {"title": "VPN", "body": "Connect.", "category": category}
    )
    article = publish(article, author, reviewer)
    barrier = threading.Barrier(4)
    failures = []

    def answer(helpful):
        try:
            barrier.wait()
            services.give_feedback(article, reader, helpful)
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(i % 2 == 0,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    feedback = ArticleFeedback.objects.get(article=article, user=reader)
    article.refresh_from_db()
    assert article.helpful_yes + article.helpful_no == 1
    assert (article.helpful_yes == 1) == feedback.helpful
