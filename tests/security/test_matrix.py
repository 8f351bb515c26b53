"""The permission matrix: every API operation of the OpenAPI schema and every other URL
pattern (screens, portal, admin) x every role, on end user A's rows (so A is the owner
and B another person), asserting who is let in and who refused, that a refusal (and an
end user's answer) names nothing of another person's, that a refused list carries no
count, and that a refused write changes nothing in the database.

The data is built once for the module (the demo, the people, A's and B's rows) inside a
transaction that is rolled back at the end; each case runs in a savepoint of it."""

import json
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.test import Client

from incidents.models import Incident

from . import data as matrix_data
from . import policy, samples, surface

WRITE_METHODS = surface.WRITE_METHODS
#: Tables a refused request may still write: the session, the audit log, sign-in records.
UNWATCHED_TABLES = ("django_session", "audit_", "axes_")


def _model(endpoint):
    return surface.model_of(endpoint) or samples.FUNCTION_VIEW_MODELS.get(endpoint.name)


def _is_owner(endpoint, role) -> bool:
    model = _model(endpoint)
    if model not in matrix_data.OWNED_MODELS:
        return False
    return matrix_data.OWNER_ROLE.get(model, "end_user_a") == role.name


def _expectation(endpoint, method, role):
    rule = surface.rule_for(endpoint, method)
    if rule is None:
        return None, None
    write = method in WRITE_METHODS
    detail = bool(endpoint.arg_names)
    return rule, rule.allows(role, write=write, detail=detail, owner=_is_owner(endpoint, role))


class KnownHole(Exception):
    """A refusal the policy asks for that the code does not give yet (``policy.HOLES``)."""


def _cases():
    """One case per endpoint and method; the roles are checked inside (a failure names
    each role that failed). Writes are sent only as the roles that must be refused."""
    cases = []
    for endpoint in [*surface.api_endpoints(), *surface.page_endpoints()]:
        methods = endpoint.methods if endpoint.kind == "api" else ("GET", "POST")
        for method in methods:
            rule = surface.rule_for(endpoint, method)
            if rule is None:
                continue  # no rule: the coverage test names it
            roles = []
            sampled = policy.SAMPLED_ROLES.get(endpoint.name)
            for role in policy.ROLES:
                if sampled and role.name not in sampled:
                    continue
                _rule, allowed = _expectation(endpoint, method, role)
                if method in WRITE_METHODS and (allowed is not False or rule.skip_writes):
                    continue  # writes: refusals only
                if allowed is None and policy.STAFF in role.tags:
                    continue  # nothing to check: no expected status, nothing hidden from staff
                roles.append(role)
            if not roles:
                continue
            holes = {
                role.name: reason
                for role in roles
                if (reason := policy.hole(method, endpoint.name, role.name))
            }
            marks = (
                [
                    pytest.mark.xfail(
                        strict=True, raises=KnownHole, reason="; ".join(sorted(set(holes.values())))
                    )
                ]
                if holes
                else []
            )
            cases.append(
                pytest.param(
                    endpoint,
                    method,
                    tuple(roles),
                    holes,
                    id=f"{method} {endpoint.route} [{endpoint.name}]",
                    marks=marks,
                )
            )
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker, tmp_path_factory):
    """The data and one signed-in client per role, built once; rolled back at the end."""
    with matrix_data.built_for_the_module(django_db_blocker, tmp_path_factory):
        built = matrix_data.build()
        clients = {}
        for role in policy.ROLES:
            client = Client()
            if role.user is not None:
                client.force_login(built.user(role.name))
            clients[role.name] = client
        built.clients = clients
        yield built


def _writes_so_far() -> int:
    """Rows inserted, updated or deleted so far in this transaction, in every table but the
    unwatched ones (PostgreSQL counts them per transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
        )
        rows = cursor.fetchall()
    return {name: n for name, n in rows if not name.startswith(UNWATCHED_TABLES) and n}


def _send(client, method, endpoint, url):
    if method == "GET":
        return client.get(url)
    body = policy.WRITE_BODIES.get(endpoint.name, {})
    if endpoint.kind == "api":
        return client.generic(method, url, json.dumps(body), content_type="application/json")
    return client.generic(
        method, url, urlencode(body), content_type="application/x-www-form-urlencoded"
    )


def _login_urls():
    return (resolve_url(settings.LOGIN_URL), "/admin/login/")


def _to_login(response) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    return response.url.split("?")[0] in _login_urls()


def _json(response):
    if response.streaming or "json" not in response.get("Content-Type", ""):
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _texts_hidden_from(matrix, role) -> list[str]:
    if policy.STAFF in role.tags:
        return []
    if role.name == "end_user_a":
        return [*matrix.secrets_of_b, *matrix.staff_secrets]
    if role.name == "end_user_b":
        return [*matrix.secrets_of_a, *matrix.staff_secrets]
    return [*matrix.secrets_of_a, *matrix.secrets_of_b, *matrix.staff_secrets]


def _check(matrix, endpoint, method, role, sample) -> str | None:
    """What is wrong with one role's answer (None: nothing)."""
    rule, allowed = _expectation(endpoint, method, role)
    client = matrix.clients[role.name]
    before = _writes_so_far() if method in WRITE_METHODS else None
    response = _send(client, method, endpoint, sample.url)
    status = response.status_code
    if status >= 500:
        return f"server error {status}"

    raw = b"".join(response.streaming_content) if response.streaming else response.content
    body = raw.decode(errors="replace")
    for secret in _texts_hidden_from(matrix, role):
        if secret in body:
            return f"{status}, shows {secret!r}, which is not theirs"

    payload = _json(response)
    if isinstance(payload, dict) and isinstance(payload.get("results"), list):
        if "count" in payload and payload["count"] != len(payload["results"]):
            return f"{status}, counts rows it does not list ({payload['count']})"
    if allowed is False:
        if endpoint.kind == "api":
            # 401: an endpoint that takes only tokens does not know the session.
            refused = status in (401, 403) or (role.user is not None and status == 404)
        elif role.user is None:
            refused = _to_login(response) or status in (401, 403, 404)
        elif endpoint.kind == "admin":
            refused = _to_login(response) or status in (403, 404)
        else:
            refused = status in (403, 404)
        if endpoint.kind != "api":
            refused = refused or status == 405  # a page's wrong method: nothing is done
        if rule.refused_as_invalid and method in WRITE_METHODS:
            refused = refused or status == 400
        if not refused:
            where = f" to {response.url}" if status in (301, 302, 303) else ""
            return f"expected a refusal, got {status}{where}"
        if isinstance(payload, dict):
            leaked = {"count", "total"} & set(payload)
            if leaked:
                return f"{status}, the refusal carries {sorted(leaked)}"
            if payload.get("results"):
                return f"{status}, the refusal lists rows"
        if before is not None:
            after = _writes_so_far()
            if after != before:
                changed = sorted(t for t in after if after[t] != before.get(t))
                return f"{status}, the refused write changed {changed}"
    elif allowed is True:
        if status in (401, 403) or (_to_login(response) and rule.read is not None):
            return f"expected to be let in, got {status}"
        if status == 404 and not (sample.approximate or sample.row is None):
            return "404 on its sample row"
    return None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.parametrize(("endpoint", "method", "roles", "holes"), CASES)
@pytest.mark.django_db
def test_access(matrix, endpoint, method, roles, holes):
    sample = samples.sample(matrix, endpoint)
    wrong, known = [], []
    for role in roles:
        rule, _allowed = _expectation(endpoint, method, role)
        with transaction.atomic():
            problem = _check(matrix, endpoint, method, role, sample)
            transaction.set_rollback(True)
        if problem is not None:
            line = f"{method} {sample.url} as {role.name} (rule: {rule.name}): {problem}"
            (known if role.name in holes else wrong).append(line)
    assert not wrong, "\n".join(wrong)
    if known:
        raise KnownHole("\n".join(known))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db
def test_the_checks_bite(matrix):
    """The matrix's checks are not vacuous: the hidden texts are shown to those who may
    read them (so their absence elsewhere means something), and a write that is let in
    moves the database's write counter (so a refused write's unchanged counter does)."""
    a_incident = matrix.owned[Incident]["a"]
    agent, owner = matrix.clients["agent"], matrix.clients["end_user_a"]
    timeline = agent.get(f"/api/v1/incidents/{a_incident.number}/timeline/").content.decode()
    assert matrix.staff_secrets[0] in timeline
    assert (
        matrix.staff_secrets[0]
        not in owner.get(f"/api/v1/incidents/{a_incident.number}/timeline/").content.decode()
    )
    listed = owner.get("/api/v1/incidents/").content.decode()
    assert a_incident.number in listed
    assert matrix.owned[Incident]["b"].number not in listed
    with transaction.atomic():
        before = _writes_so_far()
        response = agent.post(
            f"/api/v1/incidents/{a_incident.number}/comments/",
            {"body": "A reply.", "internal": False},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert _writes_so_far() != before
        transaction.set_rollback(True)
