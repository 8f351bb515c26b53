from datetime import timedelta

from django.utils import timezone

from itsm.core.models import Notification
from practices.knowledge import services, tasks
from practices.knowledge.models import Article


def _set_review(article, day):
    Article.objects.filter(pk=article.pk).update(review_date=day)


def test_owner_is_reminded_once_per_review_date(published, agent):
    today = timezone.localdate()
    _set_review(published, today + timedelta(days=10))
    assert services.send_review_reminders(today) == 0
    _set_review(published, today + timedelta(days=7))
    assert services.send_review_reminders(today) == 1
    assert services.send_review_reminders(today) == 0
    assert tasks.send_review_reminders() == 0
    note = Notification.objects.get(subject__startswith="Review")
    assert note.recipient == agent and "in 7 days" in note.subject
    # A new review date: a new reminder (past dates too).
    _set_review(published, today - timedelta(days=2))
    assert services.send_review_reminders(today) == 1
    assert "2 days ago" in Notification.objects.filter(subject__startswith="Review").first().subject


def test_drafts_and_retired_articles_are_not_reminded(draft, published, manager):
    today = timezone.localdate()
    Article.objects.update(review_date=today)
    services.retire(Article.objects.get(pk=published.pk), manager)
    assert services.send_review_reminders(today) == 0
