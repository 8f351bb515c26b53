from celery import shared_task

from . import services


@shared_task
def send_review_reminders() -> int:
    """Hourly: remind owners of articles due for review (each article and date once)."""
    return services.send_review_reminders()
