"""API tokens: every API operation of the schema, with ``Authorization: Bearer`` instead of
a session.

- A token (scope ``write``) of end user A and of an agent gets the allow or refusal that
  person's session gets in the matrix (``test_matrix``'s expectations and checks: hidden
  texts, counts, refused writes change nothing).
- A ``read`` token is refused every write (403), and the database is unchanged.
- A token scoped to one practice is refused every other endpoint (403); let in on its own.
- An expired or a revoked token, or one of a deactivated person, is a 401.

The data is the matrix's (``data.build``), built once for the module and rolled back."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from incidents.models import Incident
from itsm.api import tokens
from itsm.api.authentication import ApiTokenAuthentication
from itsm.api.models import ApiToken

from . import data as matrix_data
from . import policy, samples, surface
from .test_matrix import WRITE_METHODS, _check, _expectation, _send, _writes_so_far

#: The roles whose tokens are walked over every operation.
TOKEN_ROLES = ("end_user_a", "agent")
#: The practice the practice-scoped token is for.
PRACTICE = "incidents"

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db,
]


def _takes_tokens(endpoint) -> bool:
    """Whether the view authenticates with tokens (a webhook checks its own signature)."""
    classes = getattr(endpoint.view_class, "authentication_classes", None)
    if classes is None:
        return True
    return ApiTokenAuthentication in classes


def _practice(endpoint) -> str | None:
    config = apps.get_containing_app_config(endpoint.view_class.__module__)
    label = getattr(config, "label", None)
    return label if label in tokens.practices() else None


def _operations():
    for endpoint in surface.api_endpoints():
        if _takes_tokens(endpoint):
            for method in endpoint.methods:
                yield endpoint, method


def _id(endpoint, method):
    return f"{method} {endpoint.route} [{endpoint.name}]"


def _role_cases():
    cases = []
    for endpoint, method in _operations():
        if surface.rule_for(endpoint, method) is None:
            continue
        roles = []
        for name in TOKEN_ROLES:
            role = policy.ROLES_BY_NAME[name]
            _rule, allowed = _expectation(endpoint, method, role)
            if method in WRITE_METHODS and allowed is not False:
                continue  # writes: refusals only (as the matrix)
            if allowed is None and policy.STAFF in role.tags:
                continue
            if policy.hole(method, endpoint.name, name):
                continue  # a known hole of the session's: the matrix follows it
            roles.append(role)
        if roles:
            cases.append(pytest.param(endpoint, method, tuple(roles), id=_id(endpoint, method)))
    return cases


ROLE_CASES = _role_cases()
WRITES = [pytest.param(e, m, id=_id(e, m)) for e, m in _operations() if m in WRITE_METHODS]
OTHER_PRACTICES = [(e, m) for e, m in _operations() if _practice(e) != PRACTICE]
LISTS = [
    e
    for e, m in _operations()
    if m == "GET" and not e.arg_names and e.name not in policy.SAMPLED_ROLES
]


class TokenWorld(matrix_data.MatrixData):
    """The matrix's data seen through tokens: ``clients[role]`` send a Bearer token."""

    def __init__(self, built):
        super().__init__()
        self.__dict__.update(built.__dict__)
        self.clients = {}
        self.bearers = {}

    def bearer(self, name, user, scopes, **changes):
        token, clear = tokens.issue(user, name=f"Token test {name}", scopes=scopes)
        # Its last use is not recorded while the module runs (a refused write must change
        # nothing; recording use is the token check's own bookkeeping).
        ApiToken.objects.filter(pk=token.pk).update(
            last_used_at=timezone.now() + timedelta(days=1), **changes
        )
        client = Client(HTTP_AUTHORIZATION=f"Bearer {clear}")
        self.bearers[name] = client
        return client


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    with matrix_data.built_for_the_module(django_db_blocker, tmp_path_factory):
        built = TokenWorld(matrix_data.build())
        for name in TOKEN_ROLES:
            built.clients[name] = built.bearer(name, built.user(name), ["write"])
        agent = built.user("agent")
        built.bearer("read", agent, ["read"])
        built.bearer("practice", agent, [f"{PRACTICE}:write"])
        built.bearer("expired", agent, ["write"], expires_at=timezone.now())
        built.bearer("revoked", agent, ["write"], revoked_at=timezone.now())
        yield built


@pytest.mark.parametrize(("endpoint", "method", "roles"), ROLE_CASES)
def test_a_token_gets_what_its_persons_session_gets(world, endpoint, method, roles):
    sample = samples.sample(world, endpoint)
    wrong = []
    for role in roles:
        with transaction.atomic():
            problem = _check(world, endpoint, method, role, sample)
            transaction.set_rollback(True)
        if problem is not None:
            wrong.append(f"{method} {sample.url} with {role.name}'s token: {problem}")
    assert not wrong, "\n".join(wrong)


def _refused(world, client_name, endpoint, method, expected):
    """The request with that token: ``expected`` status, nothing changed."""
    sample = samples.sample(world, endpoint)
    with transaction.atomic():
        before = _writes_so_far() if method in WRITE_METHODS else None
        response = _send(world.bearers[client_name], method, endpoint, sample.url)
        after = _writes_so_far() if method in WRITE_METHODS else None
        transaction.set_rollback(True)
    what = f"{method} {sample.url} with the {client_name} token"
    assert response.status_code == expected, f"{what}: {response.status_code}"
    assert before == after, f"{what} changed {sorted(set(after.items()) - set(before.items()))}"
    body = response.content.decode(errors="replace")
    assert '"results"' not in body and '"count"' not in body, f"{what}: lists rows"


@pytest.mark.parametrize(("endpoint", "method"), WRITES)
def test_a_read_token_is_refused_every_write(world, endpoint, method):
    _refused(world, "read", endpoint, method, 403)


def test_a_practice_token_is_refused_other_endpoints(world):
    """Every operation of another practice or of the kernel (one test: the refusal comes
    before the view, so each is one cheap request)."""
    wrong = []
    for endpoint, method in OTHER_PRACTICES:
        try:
            _refused(world, "practice", endpoint, method, 403)
        except AssertionError as refused:
            wrong.append(str(refused))
    assert not wrong, "\n".join(wrong)


def test_a_practice_token_is_let_into_its_practice(world):
    """The agent's token for one practice reads and lists that practice's records."""
    own = [e for e, m in _operations() if m == "GET" and _practice(e) == PRACTICE]
    assert own
    for endpoint in own:
        sample = samples.sample(world, endpoint)
        response = world.bearers["practice"].get(sample.url)
        assert response.status_code not in (401, 403), (sample.url, response.status_code)


@pytest.mark.parametrize("which", ["expired", "revoked"])
def test_an_expired_or_revoked_token_is_refused(world, which):
    """Every list of the API."""
    wrong = []
    for endpoint in LISTS:
        try:
            _refused(world, which, endpoint, "GET", 401)
        except AssertionError as refused:
            wrong.append(str(refused))
    assert not wrong, "\n".join(wrong)


def test_a_deactivated_persons_token_is_refused(world):
    person = world.user("end_user_b")
    client = world.bearer("deactivated", person, ["read"])
    with transaction.atomic():
        type(person).objects.filter(pk=person.pk).update(is_active=False)
        response = client.get("/api/v1/incidents/")
        transaction.set_rollback(True)
    assert response.status_code == 401, response.status_code


def test_the_practice_is_one_with_endpoints():
    assert PRACTICE in tokens.practices()
    assert any(_practice(e) == PRACTICE for e, _m in _operations())


def test_the_checks_bite(world):
    """A write the read token is refused is let in with the agent's write token, and moves
    the database's write counter (so the refusals' unchanged counter means something)."""
    number = world.owned[Incident]["a"].number
    url = f"/api/v1/incidents/{number}/comments/"
    body = {"body": "A reply.", "internal": False}
    with transaction.atomic():
        before = _writes_so_far()
        refused = world.bearers["read"].post(url, body, content_type="application/json")
        assert refused.status_code == 403
        assert _writes_so_far() == before
        let_in = world.clients["agent"].post(url, body, content_type="application/json")
        assert let_in.status_code == 201, let_in.content
        assert _writes_so_far() != before
        transaction.set_rollback(True)
