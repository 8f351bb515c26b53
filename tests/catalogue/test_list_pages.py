"""The fulfilment and request lists draw on the kernel's list page: the filters asked for
are shown chosen again (the type's own filters and the kernel's state and open)."""

import pytest

from tests.factories import page, web

pytestmark = pytest.mark.django_db


def test_the_filters_asked_for_are_shown_chosen(agent, service_desk):
    body = page(
        web(agent).get(
            "/fulfilment/", {"assignment_group": "mine", "assigned_to": "me", "unassigned": "true"}
        )
    )
    assert '<option value="mine" selected>' in body
    assert 'name="assigned_to" value="me"' in body
    assert 'name="unassigned" value="true" checked' in body
    body = page(
        web(agent).get("/fulfilment/requests/", {"requested_for": "alice", "state": "submitted"})
    )
    assert 'name="requested_for" value="alice"' in body
    assert 'value="submitted" checked' in body
