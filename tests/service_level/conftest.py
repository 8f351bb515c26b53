from datetime import time, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType

from incidents.models import Incident
from practices.service_level.models import (
    Agreement,
    BusinessCalendar,
    Target,
    Threshold,
    WorkingPeriod,
)


@pytest.fixture
def always(db):
    return BusinessCalendar.objects.create(name="24x7", always_open=True)


@pytest.fixture
def office(db):
    calendar = BusinessCalendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", holiday_country="DE"
    )
    for day in range(5):
        WorkingPeriod.objects.create(calendar=calendar, weekday=day, start=time(9), end=time(17))
    return calendar


def agreement(name, calendar, response=None, resolution=None, thresholds=(), **fields):
    fields.setdefault("record_type", ContentType.objects.get_for_model(Incident))
    created = Agreement.objects.create(name=name, **fields)
    if response:
        Target.objects.create(
            agreement=created,
            name=f"Respond in {response}",
            metric="response",
            duration=response,
            calendar=calendar,
        )
    if resolution:
        Target.objects.create(
            agreement=created,
            name=f"Resolve in {resolution}",
            metric="resolution",
            duration=resolution,
            calendar=calendar,
        )
    for spec in thresholds:
        spec = dict(spec) if isinstance(spec, dict) else {"percent": spec}
        Threshold.objects.create(agreement=created, **spec)
    return created


@pytest.fixture
def standard_sla(always):
    """Every incident: respond within 1 hour, resolve within 4 hours, around the clock."""
    return agreement(
        "Standard",
        always,
        response=timedelta(hours=1),
        resolution=timedelta(hours=4),
        thresholds=[50, {"percent": 100, "notify_team_manager": True}],
        order=100,
    )


@pytest.fixture
def critical_sla(always):
    """Priority 1 and 2: respond within 15 minutes, resolve within 1 hour."""
    return agreement(
        "Critical",
        always,
        response=timedelta(minutes=15),
        resolution=timedelta(hours=1),
        priorities="1,2",
        order=10,
    )
