"""What knowledge management adds to other practices' pages: the portal home's search box
and the agent's incident page (linked and suggested articles)."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from itsm.core.models import RecordLink
from itsm.core.search import suggest

from .models import Article

SUGGESTIONS = 3


def popular(user, limit: int = 5):
    """The most read articles for employees."""
    return (
        Article.objects.visible_to(user)
        .for_portal()
        .only("pk", "number", "published_title", "published_summary", "views")
        .order_by("-views", "-pk")[:limit]
    )


def portal_home(request) -> dict:
    return {"popular_articles": list(popular(request.user, 3))}


def suggested_articles(
    user, text: str, exclude=(), limit: int = SUGGESTIONS, context: str = ""
) -> list:
    """Articles that may answer ``text``, best first, ranked by how much of it they
    cover (title first), ``context`` (a service, a category) adding weight (one query)."""
    hits = suggest(user, text, limit=limit + len(exclude), kinds=["articles"], context=context)
    chosen, seen = [], set(exclude)
    for hit in hits:
        if hit.obj.pk not in seen:
            seen.add(hit.obj.pk)
            chosen.append(hit)
    return chosen[:limit]


def linked_articles(record, user):
    """Articles linked to the record either way, in one query."""
    record_type = ContentType.objects.get_for_model(record)
    article_type = ContentType.objects.get_for_model(Article)
    outgoing = RecordLink.objects.filter(
        source_type=record_type, source_id=record.pk, target_type=article_type
    ).values("target_id")
    incoming = RecordLink.objects.filter(
        target_type=record_type, target_id=record.pk, source_type=article_type
    ).values("source_id")
    return (
        Article.objects.visible_to(user)
        .filter(Q(pk__in=outgoing) | Q(pk__in=incoming))
        .only("pk", "number", "title", "state")
        .order_by("number")
    )


def _topic(incident) -> str:
    """What the incident is about besides its title: its service's and subcategory's (else
    category's) names, words that count half a word of the title. Read from the incident
    when the page has loaded them, else in one query."""
    names = ("service", "subcategory", "category")
    if all(name in incident._state.fields_cache for name in names):
        related = [getattr(incident, name) for name in names]
        service, subcategory, category = (r.name if r is not None else "" for r in related)
    else:
        found = (
            type(incident)
            .objects.filter(pk=incident.pk)
            .values_list("service__name", "subcategory__name", "category__name")
            .first()
        )
        service, subcategory, category = found or ("", "", "")
    return " ".join(filter(None, (service, subcategory or category)))


def incident_articles(request, incident) -> dict | None:
    """Articles linked to the incident, a few suggested by its title (each with a "Link"
    button), and, once it is resolved, a link to write an article from it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_agent:
        return None
    linked = list(linked_articles(incident, user))
    return {
        "incident": incident,
        "linked": linked,
        "suggestions": suggested_articles(
            user,
            f"{incident.title} ",
            exclude={article.pk for article in linked},
            context=_topic(incident),
        ),
        "may_write": incident.state in ("resolved", "closed"),
    }
