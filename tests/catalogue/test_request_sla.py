"""Service requests run SLA timers like incidents do, declared by their own profile."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType

from catalogue import services
from catalogue.models import ApprovalLevel, CatalogueCategory, CatalogueItem, ServiceRequest
from practices.service_level.models import BusinessCalendar, Timer
from tests.service_level.conftest import agreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_sla(db):
    calendar = BusinessCalendar.objects.create(name="24x7", always_open=True)
    return agreement(
        "Requests: fulfil in 3 days",
        calendar,
        resolution=timedelta(days=3),
        record_type=ContentType.objects.get_for_model(ServiceRequest),
    )


def test_a_request_runs_its_fulfilment_target_and_pauses_for_approval(request_sla, alice, manager):
    alice.manager = manager
    alice.save()
    item = CatalogueItem.objects.create(
        name="Headset", category=CatalogueCategory.objects.create(name="Audio")
    )
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    request = services.submit_request(alice, item, {})
    timer = Timer.objects.get(object_id=request.pk, content_type__model="servicerequest")
    assert timer.state == "paused"  # waiting for the manager does not count
    services.decide(request.approvals.get(), manager, approve=True)
    timer.refresh_from_db()
    assert timer.state == "met"  # no tasks: fulfilled at once
    assert ServiceRequest.objects.get(pk=request.pk).state == "fulfilled"


def test_a_rejected_request_cancels_its_timer(request_sla, alice, manager):
    alice.manager = manager
    alice.save()
    item = CatalogueItem.objects.create(
        name="Headset", category=CatalogueCategory.objects.create(name="Audio")
    )
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    request = services.submit_request(alice, item, {})
    services.decide(request.approvals.get(), manager, approve=False, comment="No budget.")
    assert (
        Timer.objects.get(object_id=request.pk, content_type__model="servicerequest").state
        == "cancelled"
    )
