"""A bounded fuzz run of the whole OpenAPI schema (schemathesis, against the WSGI app in
process): every operation gets generated requests, valid and not, as an agent and as an
end user, and none may answer with a server error (5xx).

Bounded so that the whole run takes a few minutes on two cores: FUZZ_EXAMPLES requests per
operation and person (default 3; raise it locally for a longer hunt, e.g. FUZZ_EXAMPLES=50),
no explicit examples and no shrinking (a failure is shown as found).
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from itsm.api import tokens
from tests import factories

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))


def api_schema():
    """The schema the API serves, generated in process (it is for signed-in people only),
    the requests going to the WSGI app. Loaded when the module is collected: schemathesis'
    lazy fixture loading does not work with this pytest."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    return loaded


schema = api_schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The app is called as a server would call it, but inside the test's transaction: its
    request signals must not close the test's connection (Django's test client does the
    same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def some_data(service_desk, email_service, mail_server, alice, agent):
    """A little to find: an incident of Alice's with the service desk."""
    factories.incident(
        alice, actor=agent, title="Mail is down", assignment_group=service_desk, assigned_to=agent
    )


def bearer(person) -> dict:
    _, clear = tokens.issue(person, name="fuzz", scopes=["read", "write"])
    return {"Authorization": f"Bearer {clear}"}


@pytest.fixture
def as_agent(agent, some_data):
    return bearer(agent)


@pytest.fixture
def as_end_user(alice, some_data):
    return bearer(alice)


FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


@schema.parametrize()
@FUZZ
def test_no_server_error_for_an_agent(case, as_agent):
    response = case.call(headers=as_agent)
    case.validate_response(response, checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_no_server_error_for_an_end_user(case, as_end_user):
    response = case.call(headers=as_end_user)
    case.validate_response(response, checks=[not_a_server_error])
