"""``manage.py load_demo``: the accounts the README lists, incidents in every state, and a
second run that changes nothing."""

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from incidents.models import Incident
from itsm.accounts.models import Role, Team


def row_counts():
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"accounts", "core", "incidents", "catalogue", "cmdb"}
    }


@pytest.mark.django_db
def test_load_demo_is_complete_and_idempotent(priority_matrix, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", verbosity=0)
    first = row_counts()

    for username, role in [
        ("admin", Role.ADMINISTRATOR),
        ("agent", Role.AGENT),
        ("manager", Role.MANAGER),
        ("alice", Role.END_USER),
        ("bob", Role.END_USER),
    ]:
        # Through the sign-in's backends, with a request as the lockout needs one.
        request = RequestFactory().post("/login/")
        user = authenticate(request, username=username, password="demo")
        assert user is not None, username
        assert user.role == role
    desk = Team.objects.get(name="Service Desk")
    assert desk.manager.username == "manager"
    assert desk.members.filter(username="agent").exists()

    states = set(Incident.objects.values_list("state", flat=True))
    assert states == {"new", "in_progress", "on_hold", "resolved", "closed", "cancelled"}
    assert Incident.objects.count() >= 24
    assert Incident.objects.filter(major=True, children__isnull=False).exists()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", verbosity=0)
    assert row_counts() == first
