from celery import shared_task

from . import services


@shared_task
def send_contract_reminders() -> int:
    """Daily: remind contract owners ahead of renewal and expiry (each reminder once)."""
    return services.send_contract_reminders()
