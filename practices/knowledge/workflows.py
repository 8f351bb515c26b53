"""The article lifecycle: draft → in review → published → (revise: a new draft while readers
keep the last published version) … → retired (final).

Reviewers (who publish, send back and retire) are managers and administrators, and the
members of the article's reviewing team (its ``assignment_group``). A team member does not
publish an article they submitted for review themselves (four eyes); a manager or an
administrator may.
"""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.workflow import Transition, Workflow, staff_only


class ArticleState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


S = ArticleState

#: A published article without a later review date is reviewed a year on.
DEFAULT_REVIEW_DAYS = 365


def is_senior_reviewer(user) -> bool:
    """Reviews every article, whatever its reviewing team (managers, knowledge reviewers,
    administrators)."""
    return bool(user.is_agent and user.has_perm("knowledge.review_article"))


def is_reviewer(article, user) -> bool:
    """Managers and administrators, or a member of the article's reviewing team (``None``,
    the platform itself, too)."""
    if user is None:
        return True
    if not user.is_agent:
        return False
    if is_senior_reviewer(user):
        return True
    return bool(article.assignment_group_id and article.assignment_group_id in user.team_ids)


def four_eyes(article, user):
    if user is None or is_senior_reviewer(user):
        return None
    if article.submitted_by_id == user.pk:
        return gettext("Another reviewer publishes what you submitted (four eyes).")
    return None


def mark_submitted(article, user):
    article.submitted_by = user


def mark_published(article, user):
    """Readers now see this text: snapshot the working copy (the version row is written by
    ``services.publish``)."""
    now = timezone.now()
    article.published_number = (article.published_number or 0) + 1
    article.published_title = article.title
    article.published_summary = article.summary
    article.published_keywords = article.keywords
    article.published_body = article.body
    article.published_at = now
    article.published_by = user
    article.submitted_by = None
    today = timezone.localdate()
    if article.review_date is None or article.review_date <= today:
        article.review_date = today + timedelta(days=DEFAULT_REVIEW_DAYS)


def mark_sent_back(article, user):
    article.submitted_by = None


def mark_retired(article, user):
    article.retired_at = timezone.now()
    article.submitted_by = None


article_workflow = Workflow(
    states=ArticleState.choices,
    initial=S.DRAFT,
    transitions=[
        Transition(
            frozenset({S.DRAFT}),
            S.IN_REVIEW,
            _("Submit for review"),
            requires=("title", "body"),
            allowed=staff_only,
            effects=(mark_submitted,),
            style="primary",
        ),
        Transition(
            frozenset({S.IN_REVIEW}),
            S.PUBLISHED,
            _("Publish"),
            requires=("title", "body", "category"),
            allowed=is_reviewer,
            guards=(four_eyes,),
            effects=(mark_published,),
            style="primary",
        ),
        Transition(
            frozenset({S.IN_REVIEW}),
            S.DRAFT,
            _("Send back"),
            allowed=is_reviewer,
            effects=(mark_sent_back,),
        ),
        Transition(
            frozenset({S.PUBLISHED}),
            S.DRAFT,
            _("Revise"),
            allowed=staff_only,
        ),
        Transition(
            frozenset({S.DRAFT, S.IN_REVIEW, S.PUBLISHED}),
            S.RETIRED,
            _("Retire"),
            allowed=is_reviewer,
            effects=(mark_retired,),
            style="danger",
        ),
    ],
)
