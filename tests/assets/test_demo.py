"""The demo asset register: every lifecycle state, two contracts (one renewing within 30
days), one over- and one under-licensed product, and a second run that changes nothing."""

import pytest
from django.apps import apps

from itsm.core.management.commands.load_demo import load_people
from practices.assets import compliance, demo, services
from practices.assets.models import Asset, Contract

pytestmark = pytest.mark.django_db


def counts():
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"assets", "cmdb", "core"}
    }


def test_the_demo_is_complete_and_idempotent(django_capture_on_commit_callbacks):
    context = load_people(log=lambda message: None)
    demo.load(context)
    first = counts()

    assert Asset.objects.count() == 15
    assert set(Asset.objects.values_list("state", flat=True)) == {
        "ordered",
        "received",
        "in_stock",
        "deployed",
        "in_repair",
        "retired",
        "disposed",
    }
    assert Asset.objects.filter(assigned_to__username="alice").count() == 2
    assert Contract.objects.count() >= 2
    today = demo.timezone.localdate()
    assert any(services.due_events(c, today) for c in Contract.objects.all())
    statuses = {row.software.name: row.status for row in compliance.report()}
    assert statuses == {
        "Adobe Acrobat Pro": "under_licensed",
        "Microsoft 365 Apps": "over_licensed",
    }

    demo.load(load_people(log=lambda message: None))
    assert counts() == first
