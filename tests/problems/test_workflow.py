"""The problem lifecycle: legal and illegal transitions, guards, timestamps, priority."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from itsm.core.models import JournalEntry
from problems import services
from problems.models import Dimension, Problem, Risk, priority_for
from problems.workflows import ProblemState as S
from problems.workflows import problem_workflow

from .conftest import make_problem


def test_numbers_and_initial_state(agent):
    first = make_problem(agent)
    second = make_problem(agent, title="Another")
    assert first.number.startswith("PRB") and len(first.number) == 10
    assert int(second.number[3:]) == int(first.number[3:]) + 1
    assert first.state == S.NEW
    assert first.opened_by == agent
    assert first.requester is None and first.requester_id is None
    assert JournalEntry.objects.for_record(first).filter(kind="created").exists()


@pytest.mark.parametrize(
    ("impact", "probability", "priority"),
    [
        (Risk.HIGH, Risk.HIGH, 1),
        (Risk.HIGH, Risk.LOW, 3),
        (Risk.MEDIUM, Risk.MEDIUM, 3),
        (Risk.LOW, Risk.HIGH, 3),
        (Risk.LOW, Risk.LOW, 5),
    ],
)
def test_priority_follows_the_risk_matrix(agent, impact, probability, priority):
    problem = make_problem(agent, impact=impact, probability=probability)
    assert problem.priority == priority == priority_for(impact, probability)


def test_priority_is_recomputed_on_update(agent, problem):
    assert problem.priority == 3
    problem = services.update_problem(problem, agent, {"impact": Risk.HIGH, "probability": "high"})
    assert problem.priority == 1


def test_bad_risk_is_refused_with_the_field(agent):
    with pytest.raises(ValidationError) as error:
        make_problem(agent, impact="huge")
    assert "impact" in error.value.message_dict
    assert not Problem.objects.exists()


def test_end_users_cannot_open_or_change_problems(alice, agent, problem):
    with pytest.raises(PermissionDenied):
        make_problem(alice)
    with pytest.raises(PermissionDenied):
        services.update_problem(problem, alice, {"title": "Mine"})


def test_assess_needs_an_assignment_group(agent):
    problem = make_problem(agent)
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"state": S.ASSESSED})
    assert "assignment_group" in error.value.message_dict
    problem.refresh_from_db()
    assert problem.state == S.NEW and problem.version == 1


def test_illegal_transition_names_allowed_states(agent, problem):
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"state": S.CLOSED})
    # closing from new needs notes; but "closed" is allowed, so the error names the field
    assert "resolution_notes" in error.value.message_dict
    problem = services.update_problem(
        problem, agent, {"state": S.RESOLVED, "resolution_notes": "Fixed by a config change."}
    )
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"state": S.KNOWN_ERROR})
    message = " ".join(error.value.message_dict["state"])
    assert "Allowed next states" in message
    assert "closed" in message and "root_cause_analysis" in message


def test_unknown_state_is_refused(agent, problem):
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"state": "done"})
    assert "not a state" in " ".join(error.value.message_dict["state"])


def test_known_error_needs_a_workaround_or_a_root_cause(agent, problem):
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"state": S.KNOWN_ERROR})
    assert "workaround or a documented root cause" in " ".join(error.value.message_dict["state"])
    problem.refresh_from_db()
    assert problem.state == S.NEW

    # A contributing cause is not enough; a root cause is.
    cause = services.add_cause(
        problem,
        agent,
        {"dimension": Dimension.ORGANIZATIONS_AND_PEOPLE, "description": "No runbook."},
    )
    with pytest.raises(ValidationError):
        services.update_problem(problem, agent, {"state": S.KNOWN_ERROR})
    services.update_cause(cause, agent, {"is_root_cause": True})
    problem = services.update_problem(problem, agent, {"state": S.KNOWN_ERROR})
    assert problem.state == S.KNOWN_ERROR
    assert problem.known_error_at is not None


def test_known_error_with_a_workaround_in_the_same_step(agent, problem):
    problem = services.update_problem(
        problem, agent, {"workaround": "Use webmail.", "state": S.KNOWN_ERROR}
    )
    assert problem.state == S.KNOWN_ERROR


def test_full_lifecycle_sets_timestamps(agent, problem):
    problem = services.update_problem(problem, agent, {"state": S.ASSESSED})
    problem = services.update_problem(problem, agent, {"state": S.ROOT_CAUSE_ANALYSIS})
    problem = services.update_problem(
        problem, agent, {"workaround": "Use webmail.", "state": S.KNOWN_ERROR}
    )
    first_known = problem.known_error_at
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"state": S.RESOLVED})
    assert "resolution_notes" in error.value.message_dict
    problem = services.update_problem(
        problem, agent, {"state": S.RESOLVED, "resolution_notes": "Pool enlarged (CHG0001001)."}
    )
    assert problem.resolved_at is not None
    problem = services.update_problem(problem, agent, {"state": S.ROOT_CAUSE_ANALYSIS})
    assert problem.resolved_at is None and problem.resolution_notes == ""
    problem = services.update_problem(
        problem, agent, {"state": S.RESOLVED, "resolution_notes": "Pool enlarged again."}
    )
    problem = services.update_problem(problem, agent, {"state": S.CLOSED})
    assert problem.closed_at is not None
    assert problem.known_error_at == first_known
    states = [e.data["to"] for e in JournalEntry.objects.for_record(problem).filter(kind="state")]
    assert states == [
        "assessed",
        "root_cause_analysis",
        "known_error",
        "resolved",
        "root_cause_analysis",
        "resolved",
        "closed",
    ]


def test_closed_problem_cannot_change(agent, problem):
    problem = services.update_problem(
        problem, agent, {"state": S.CLOSED, "resolution_notes": "Duplicate of PRB0000001."}
    )
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"workaround": "Too late"})
    assert "state" in error.value.message_dict


def test_workaround_is_writable_at_any_open_stage(agent, problem):
    for target in (S.ASSESSED, S.ROOT_CAUSE_ANALYSIS):
        problem = services.update_problem(problem, agent, {"state": target})
        problem = services.update_problem(problem, agent, {"workaround": f"Try {target}"})
        assert problem.workaround == f"Try {target}"
    problem = services.update_problem(
        problem, agent, {"state": S.RESOLVED, "resolution_notes": "Fixed."}
    )
    problem = services.update_problem(problem, agent, {"workaround": "Kept for the record"})
    assert problem.workaround == "Kept for the record"


def test_publishing_needs_a_workaround(agent, problem):
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"workaround_public": True})
    assert "workaround_public" in error.value.message_dict


def test_assignee_must_be_in_the_group(agent, agent2, problem):
    with pytest.raises(ValidationError) as error:
        services.update_problem(problem, agent, {"assigned_to": agent2})
    assert "assigned_to" in error.value.message_dict


def test_stale_version_is_refused(agent, problem):
    from itsm.core.services import StaleVersion

    services.update_problem(problem, agent, {"title": "Changed"})
    with pytest.raises(StaleVersion):
        services.update_problem(problem, agent, {"title": "Mine"}, expected_version=1)


def test_every_state_is_reachable():
    targets = {t.target for t in problem_workflow.transitions}
    assert targets | {problem_workflow.initial} == set(problem_workflow.state_names)
