"""The access policy covers everything: a new endpoint, page or role without a rule fails
here, naming it (the matrix itself skips what has no rule)."""

import pytest

from itsm.accounts import roles as account_roles
from itsm.accounts.models import Role

from . import policy, surface


def _unruled(endpoints, methods_of):
    missing = []
    for endpoint in endpoints:
        for method in methods_of(endpoint):
            if surface.rule_for(endpoint, method) is None:
                missing.append(f"{method} {endpoint.route} [{endpoint.name}]")
    return missing


def test_every_api_operation_has_an_access_rule():
    missing = _unruled(surface.api_endpoints(), lambda e: e.methods)
    assert not missing, "No access rule in tests/security/policy.py for:\n" + "\n".join(missing)


def test_every_page_has_an_access_rule():
    missing = _unruled(surface.page_endpoints(), lambda e: ("GET", "POST"))
    assert not missing, "No access rule in tests/security/policy.py for:\n" + "\n".join(missing)


def test_every_schema_operation_is_in_the_matrix():
    """The schema's operations and the endpoints the matrix walks are the same list."""
    document, _endpoints = surface.schema()
    operations = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }
    walked = {(surface._coerced(e.route), m) for e in surface.api_endpoints() for m in e.methods}
    assert operations == walked


def test_every_role_is_played():
    """Each primary role and each additional role's group is played by a role of the
    matrix (adding a role to the platform without a line in ``policy.ROLES`` fails)."""
    played = {role.user.get("role") for role in policy.ROLES if role.user}
    assert {value for value, _label in Role.choices} <= played
    groups = {g for role in policy.ROLES if role.user for g in role.user.get("groups", [])}
    assert set(getattr(account_roles, "ADDITIONAL_ROLE_GROUPS", ())) <= groups


@pytest.mark.parametrize("role", policy.ROLES, ids=policy.ROLE_NAMES)
def test_roles_hold_what_their_tags_say(role):
    if role.user is None:
        assert not role.tags
    else:
        assert policy.SIGNED_IN in role.tags
    assert len(set(policy.ROLE_NAMES)) == len(policy.ROLE_NAMES)
