import io

from django.core.management import call_command

from practices.knowledge.models import Article, ArticleVersion


def test_demo_is_loaded_once(db, priority_matrix):
    call_command("load_demo", stdout=io.StringIO())
    articles = Article.objects.all()
    assert articles.count() == 12
    assert articles.filter(state="published", audience="portal").count() == 8
    assert articles.filter(audience="internal").count() == 2
    assert articles.filter(state="draft").count() == 1
    assert articles.filter(state="in_review").count() == 1
    assert ArticleVersion.objects.filter(number=2).count() == 1
    call_command("load_demo", stdout=io.StringIO())
    assert Article.objects.count() == 12
