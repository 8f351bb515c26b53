"""Fixtures of problem management tests: problems made through the services."""

import pytest

from problems import services
from problems.models import Dimension
from problems.workflows import ProblemState
from tests import factories


def make_problem(actor, **data):
    data.setdefault("title", "Mail relay drops connections")
    return services.open_problem(actor, data)


def known_error(actor, team, workaround="Restart the mail client.", public=False, **data):
    """A problem taken to known error with a workaround (and a root cause)."""
    problem = make_problem(actor, assignment_group=team, **data)
    services.add_cause(
        problem,
        actor,
        {
            "dimension": Dimension.INFORMATION_AND_TECHNOLOGY,
            "description": "Connection pool too small.",
            "is_root_cause": True,
        },
    )
    return services.update_problem(
        problem,
        actor,
        {
            "workaround": workaround,
            "workaround_public": public,
            "state": ProblemState.KNOWN_ERROR,
        },
    )


@pytest.fixture
def problem(agent, service_desk):
    return make_problem(agent, assignment_group=service_desk)


@pytest.fixture
def open_incidents(agent, alice, bob, service_desk):
    return [
        factories.incident(alice, actor=agent, title="Mail bounces", assignment_group=service_desk),
        factories.incident(bob, actor=agent, title="Mail slow", assignment_group=service_desk),
    ]
