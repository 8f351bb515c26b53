from celery import shared_task

from . import retention


@shared_task
def apply_retention() -> dict:
    """The nightly run of the retention rules (``manage.py apply_retention``)."""
    return retention.apply().as_dict()
