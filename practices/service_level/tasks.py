from celery import shared_task

from . import services


@shared_task
def sweep_timers() -> dict:
    """Celery beat: record breaches and queue escalations that fell due."""
    return services.sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_escalation(escalation_id: int) -> bool:
    return services.escalate(escalation_id)
