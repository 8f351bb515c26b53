from celery import shared_task

from . import services


@shared_task
def close_resolved_incidents() -> int:
    return services.close_resolved()
