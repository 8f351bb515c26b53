from celery import shared_task

from . import approvals


@shared_task
def escalate_overdue_approvals() -> int:
    """Approvals past their deadline (the emergency change authority's): the change
    managers are told, once per approval."""
    return approvals.escalate_overdue()
