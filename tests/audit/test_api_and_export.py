"""The audit log for administrators: ``GET /api/v1/audit/events/`` (read-only, filtered,
keyset-paginated, a fixed number of queries), ``manage.py audit_export`` (CSV that a
spreadsheet runs nothing of, JSON lines) and ``manage.py audit_verify``."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from itsm.accounts.models import Role
from itsm.audit.models import AuditEvent
from itsm.audit.services import record
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/events/"
ACTIONS = ("auth.sign_in", "auth.sign_in_failed", "token.created")


@pytest.fixture
def administrator(db):
    return make_user("admin2", Role.ADMINISTRATOR)


@pytest.fixture
def trail(agent, alice):
    record("auth.sign_in", actor=agent)
    record("auth.sign_in_failed", username="nobody")
    record("token.created", actor=alice, target=alice, name="ci")
    return list(AuditEvent.objects.filter(action__in=ACTIONS).order_by("sequence"))


def test_administrators_read_the_audit_log(api_as, administrator, admin_user, trail):
    for user in (administrator, admin_user):
        response = api_as(user).get(URL)
        assert response.status_code == 200
        results = response.json()["results"]
        newest = results[0]
        assert newest["action"] == "token.created" and newest["actor"] == "alice"
        assert newest["target_type"] == "accounts.user" and newest["details"] == {"name": "ci"}
        assert [r["sequence"] for r in results] == sorted(
            (r["sequence"] for r in results), reverse=True
        )
    one = api_as(administrator).get(f"{URL}{trail[0].sequence}/")
    assert one.status_code == 200 and one.json()["hash"] == trail[0].hash


def test_nobody_else_reads_it(api_as, agent, manager, alice, trail):
    for user in (agent, manager, alice):
        response = api_as(user).get(URL)
        assert response.status_code == 403
        assert "results" not in response.json()
    assert APIClient().get(URL).status_code == 401
    assert APIClient().get(f"{URL}{trail[0].sequence}/").status_code == 401


def test_it_is_read_only_through_the_api(api_as, admin_user, trail):
    client = api_as(admin_user)
    one = f"{URL}{trail[0].sequence}/"
    assert client.post(URL, {"action": "forged"}, format="json").status_code == 405
    assert client.patch(one, {"action": "x"}, format="json").status_code == 405
    assert client.put(one, {"action": "x"}, format="json").status_code == 405
    assert client.delete(one).status_code == 405
    assert AuditEvent.objects.get(pk=trail[0].pk).action == "auth.sign_in"


def test_filters(api_as, admin_user, trail):
    client = api_as(admin_user)

    def actions(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        return [r["action"] for r in response.json()["results"]]

    assert actions(action="auth.sign_in") == ["auth.sign_in"]
    assert actions(action_prefix="auth.") == ["auth.sign_in_failed", "auth.sign_in"]
    assert actions(actor="alice") == ["token.created"]
    assert actions(target_type="accounts.user", action_prefix="token.") == ["token.created"]
    soon = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert actions(since=soon) == []
    assert "auth.sign_in" in actions(until=soon)
    bad = client.get(URL, {"since": "2026-01-01T00:00:00+20:00"})
    assert bad.status_code == 400 and "since" in bad.json()
    assert client.get(URL, {"cursor": "garbage"}).status_code == 400


def test_keyset_pages_and_a_fixed_number_of_queries(api_as, admin_user, agent):
    for i in range(7):
        record("test.page", actor=agent, number=i)
    client = api_as(admin_user)
    with CaptureQueriesContext(connection) as small:
        first = client.get(URL, {"action": "test.page", "page_size": 3})
    page = first.json()
    assert [r["details"]["number"] for r in page["results"]] == [6, 5, 4]
    second = client.get(page["next"]).json()
    assert [r["details"]["number"] for r in second["results"]] == [3, 2, 1]
    for i in range(30):
        record("test.page", actor=agent, number=100 + i)
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL, {"action": "test.page", "page_size": 25})
    assert response.status_code == 200 and len(response.json()["results"]) == 25
    assert len(large) == len(small) <= 3


def test_audit_export_csv_neutralises_formulas(agent, tmp_path):
    record(
        "admin.changed",
        actor=agent,
        after={"name": '=HYPERLINK("http://evil")'},
        note="x;=1+1",
        other="@SUM(A1)",
    )
    out = tmp_path / "audit.csv"
    call_command("audit_export", "--format", "csv", "--output", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    (row,) = [r for r in rows if r["action"] == "admin.changed"]
    assert json.loads(row["after"]) == {"name": '\'=HYPERLINK("http://evil")'}
    # The cell as a whole holds ";=" (a split there finds a formula): quoted as well.
    assert row["details"].startswith("'")
    details = json.loads(row["details"].removeprefix("'"))
    assert details == {"note": "'x;=1+1", "other": "'@SUM(A1)"}
    assert row["actor_username"] == "agent" and row["sequence"].isdigit()
    for value in row.values():
        assert value[:1] not in ("=", "+", "-", "@")
        assert '"=' not in value and '"@' not in value


def test_audit_export_jsonl_and_its_period(agent):
    old = record("test.old", actor=agent)
    out = io.StringIO()
    today = timezone.localdate().isoformat()
    call_command(
        "audit_export", "--format", "jsonl", "--since", today, "--until", today, stdout=out
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["action"] for line in lines][-1] == "test.old"
    assert lines[-1]["hash"] == old.hash
    out = io.StringIO()
    call_command("audit_export", "--format", "jsonl", "--until", "2000-01-01", stdout=out)
    assert out.getvalue() == ""
    with pytest.raises(CommandError, match="not a date"):
        call_command("audit_export", "--since", "last week")


def test_audit_verify_command(agent):
    record("test.event", actor=agent)
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "verifies" in out.getvalue()


def test_an_auditors_group_reads_it_by_its_permission(api_as, manager, trail):
    from django.contrib.auth.models import Group, Permission

    assert api_as(manager).get(URL).status_code == 403
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(Permission.objects.get(codename="view_auditevent"))
    manager.groups.add(auditors)
    manager = type(manager).objects.get(pk=manager.pk)  # permissions are cached per object
    assert api_as(manager).get(URL).status_code == 200


def test_a_target_given_by_name(db):
    event = record("auth.sign_in_failed", target="no-such-user")
    assert (event.target_type, event.target_id, event.target_repr) == ("", "", "no-such-user")
