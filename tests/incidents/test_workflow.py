"""The incident lifecycle as the workflow engine enforces it (no database needed)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import Incident
from incidents.workflows import incident_workflow

AGENT = SimpleNamespace(pk=1, is_agent=True)
CALLER = SimpleNamespace(pk=2, is_agent=False)
STRANGER = SimpleNamespace(pk=3, is_agent=False)
SYSTEM = None


def make(state="new", **fields):
    return Incident(number="INC0001001", title="x", state=state, caller_id=CALLER.pk, **fields)


def targets(incident, user):
    return sorted({str(t.target) for t in incident_workflow.available(incident, user)})


@pytest.mark.parametrize(
    ("state", "user", "expected"),
    [
        ("new", AGENT, ["cancelled", "in_progress", "on_hold", "resolved"]),
        ("new", CALLER, ["cancelled"]),
        ("new", STRANGER, []),
        ("in_progress", AGENT, ["cancelled", "on_hold", "resolved"]),
        ("in_progress", CALLER, []),
        ("on_hold", AGENT, ["cancelled", "in_progress", "resolved"]),
        ("resolved", AGENT, ["closed", "in_progress"]),
        ("resolved", CALLER, ["closed", "in_progress"]),
        ("resolved", STRANGER, []),
        ("resolved", SYSTEM, ["closed", "in_progress"]),
        ("closed", AGENT, []),
        ("cancelled", AGENT, []),
    ],
)
def test_who_may_go_where(state, user, expected):
    assert targets(make(state, resolved_at=timezone.now()), user) == expected


def test_final_states():
    assert incident_workflow.is_final("closed")
    assert incident_workflow.is_final("cancelled")
    assert not incident_workflow.is_final("resolved")


def test_caller_loses_reopen_after_the_window(settings):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 3
    inside = make("resolved", resolved_at=timezone.now() - timedelta(days=2, hours=23))
    outside = make("resolved", resolved_at=timezone.now() - timedelta(days=3, minutes=1))
    assert targets(inside, CALLER) == ["closed", "in_progress"]
    assert targets(outside, CALLER) == ["closed"]
    assert targets(outside, AGENT) == ["closed", "in_progress"]


def test_resolve_requires_code_and_notes():
    incident = make("in_progress")
    with pytest.raises(ValidationError) as error:
        incident_workflow.apply(incident, "resolved", AGENT)
    assert set(error.value.message_dict) == {"resolution_code", "resolution_notes"}
    assert incident.state == "in_progress"
    assert incident.resolved_at is None

    incident.resolution_code = "solved_permanently"
    incident.resolution_notes = "   "  # blank is not enough
    with pytest.raises(ValidationError) as error:
        incident_workflow.apply(incident, "resolved", AGENT)
    assert set(error.value.message_dict) == {"resolution_notes"}


def test_resolve_stamps_and_clears_hold():
    incident = make(
        "on_hold",
        on_hold_reason="awaiting_caller",
        resolution_code="solved_permanently",
        resolution_notes="Fixed",
    )
    incident_workflow.apply(incident, "resolved", AGENT)
    assert incident.state == "resolved"
    assert incident.resolved_at is not None
    assert incident.on_hold_reason == ""


def test_reopen_clears_the_resolution_and_counts():
    incident = make(
        "resolved",
        resolved_at=timezone.now(),
        resolution_code="solved_permanently",
        resolution_notes="Fixed",
        reopen_count=1,
    )
    incident_workflow.apply(incident, "in_progress", CALLER)
    assert incident.state == "in_progress"
    assert (incident.resolution_code, incident.resolution_notes) == ("", "")
    assert incident.resolved_at is None
    assert incident.reopen_count == 2


def test_withdraw_and_cancel_stamp_closed_at():
    for user in (CALLER, AGENT):
        incident = make("new")
        incident_workflow.apply(incident, "cancelled", user)
        assert incident.state == "cancelled"
        assert incident.closed_at is not None


def test_close_stamps_closed_at():
    incident = make("resolved", resolved_at=timezone.now())
    incident_workflow.apply(incident, "closed", CALLER)
    assert incident.closed_at is not None


def test_illegal_move_names_the_allowed_states():
    incident = make("new")
    with pytest.raises(ValidationError) as error:
        incident_workflow.apply(incident, "closed", AGENT)
    message = error.value.message_dict["state"][0]
    assert "cancelled, in_progress, on_hold, resolved" in message
    assert incident.state == "new"


def test_stranger_is_told_there_is_nothing_to_do():
    with pytest.raises(ValidationError) as error:
        incident_workflow.apply(make("new"), "cancelled", STRANGER)
    assert "none" in error.value.message_dict["state"][0]
