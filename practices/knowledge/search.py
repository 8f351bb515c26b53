"""The knowledge source of the kernel's search (registered in ``KnowledgeConfig.ready``).

Only published text is indexed (``published_*`` columns, copied at each publication): a
reader never finds an article by words that only an unpublished revision contains."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Article
from .rendering import excerpt

#: Columns of ``knowledge_article`` in the search vector, with their weights.
FIELDS = {
    "published_title": "A",
    "published_keywords": "B",
    "published_summary": "B",
    "published_body": "C",
}
#: What an article is about (the strong fields): a second vector, for suggestions.
SUGGEST_FIELDS = {k: w for k, w in FIELDS.items() if w in "AB"}
SUGGEST_VECTOR = "suggest_vector"


def findable(user):
    """What the user may find: published articles they may read (portal audience only, for
    end users)."""
    articles = Article.objects.visible_to(user).readable()
    if not user.is_agent:
        articles = articles.for_portal()
    return articles.only(
        "pk", "number", "state", "published_title", "published_summary", "published_body"
    )


def url(article, user) -> str:
    name = "knowledge:detail" if user.is_agent else "knowledge:portal-article"
    return reverse(name, args=[article.number])


def summary(article, user) -> str:
    return article.published_summary or excerpt(article.published_body)


def source():
    from itsm.core.search import SearchSource

    return SearchSource(
        key="articles",
        label=_("Knowledge articles"),
        singular=_("Article"),
        model=Article,
        queryset=findable,
        fields=FIELDS,
        url=url,
        summary=summary,
        suggest=True,
        suggest_vector_column=SUGGEST_VECTOR,
        order=10,
    )
