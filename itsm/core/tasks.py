from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Notification


@shared_task
def deliver_notifications(notification_ids: list[int]) -> int:
    return services.deliver(notification_ids)


@shared_task
def deliver_pending_notifications() -> int:
    """Sweep: deliver what was not delivered right after commit (broker or mail down)."""
    now = timezone.now()
    older_than = now - timedelta(seconds=30)
    # A worker that died while sending leaves its claim behind: release it after a while.
    Notification.objects.filter(
        status=Notification.Status.SENDING, claimed_at__lt=now - timedelta(minutes=10)
    ).update(status=Notification.Status.PENDING)
    ids = list(
        Notification.objects.filter(
            status=Notification.Status.PENDING, created_at__lt=older_than
        ).values_list("pk", flat=True)[:500]
    )
    return services.deliver(ids)
