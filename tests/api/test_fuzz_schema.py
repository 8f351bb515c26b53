"""A bounded fuzz run of the whole OpenAPI schema (schemathesis, against the WSGI app in
process): every operation gets generated requests, valid and not, as an agent and as an
end user, and none may answer with a server error (5xx).

Bounded so that the whole run takes a few minutes on two cores: FUZZ_EXAMPLES requests per
operation and person (default 4; raise it locally for a longer hunt, e.g. FUZZ_EXAMPLES=50),
no shrinking of failures beyond Hypothesis' explicit phase.
"""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from itsm.api import tokens
from tests import factories

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))


@pytest.fixture(scope="module")
def api_schema():
    """The schema the API serves (generated in process: it is for signed-in people only)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def some_data(service_desk, email_service, mail_server, alice, agent):
    """A little to find: an incident of Alice's with the service desk."""
    factories.incident(
        alice, actor=agent, title="Mail is down", assignment_group=service_desk, assigned_to=agent
    )


def bearer(person) -> dict:
    _, clear = tokens.issue(person, name="fuzz", scopes=["read", "write"])
    return {"Authorization": f"Bearer {clear}"}


FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


@schema.parametrize()
@FUZZ
def test_no_server_error_for_an_agent(case, agent, some_data):
    response = case.call(headers=bearer(agent))
    case.validate_response(response, checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_no_server_error_for_an_end_user(case, alice, some_data):
    response = case.call(headers=bearer(alice))
    case.validate_response(response, checks=[not_a_server_error])
