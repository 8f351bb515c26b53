"""The two search sources: known errors (suggested; end users only public ones) and
problems (staff only); on PostgreSQL the generated search vector column."""

import ast
from pathlib import Path

from django.db import connection

from itsm.core import search
from problems import search as problem_search
from problems.models import Problem
from tests.conftest import requires_postgres

from .conftest import known_error, make_problem

MIGRATIONS = Path(problem_search.__file__).parent / "migrations"


def kinds(hits):
    return {(h.kind, h.obj.number) for h in hits}


def test_sources_are_registered():
    sources = {s.key: s for s in search.registry.get(["known_errors", "problems"])}
    assert sources["known_errors"].label == "Known errors" and sources["known_errors"].suggest
    assert not sources["problems"].suggest
    assert sources["problems"].fields == problem_search.FIELDS
    # Known errors are matched on what an end user may read of them only.
    assert (
        sources["known_errors"].fields
        == problem_search.PUBLIC_FIELDS
        == {
            "title": "A",
            "workaround": "B",
        }
    )
    assert sources["known_errors"].vector_column == problem_search.PUBLIC_VECTOR


def _vector_migration(name):
    tree = ast.parse((MIGRATIONS / name).read_text())
    call = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "search_vector_operations"
    )
    args = [ast.literal_eval(arg) for arg in call.args]
    column = next((ast.literal_eval(k.value) for k in call.keywords if k.arg == "column"), None)
    return args, column


def test_migrations_use_the_same_fields():
    (table, fields), column = _vector_migration("0002_search_vector.py")
    assert table == Problem._meta.db_table and fields == problem_search.FIELDS and column is None
    (table, fields), column = _vector_migration("0003_public_search_vector.py")
    assert fields == problem_search.PUBLIC_FIELDS and column == problem_search.PUBLIC_VECTOR


def test_an_internal_description_cannot_be_probed(agent, alice, service_desk):
    known_error(
        agent,
        service_desk,
        title="VPN drops",
        workaround="Reconnect.",
        public=True,
        description="Internal: caused by the zyxxor firewall rule",
    )
    assert search.search(alice, "zyxxor") == []
    assert search.suggest(alice, "zyxx") == []
    # Staff still find the problem by its description.
    assert {h.kind for h in search.search(agent, "zyxxor")} == {"problems"}


def test_staff_find_known_errors_and_problems(agent, service_desk):
    ke = known_error(agent, service_desk, title="Relay rejects large attachments")
    other = make_problem(agent, title="Relay certificate expires")
    hits = search.search(agent, "relay", kinds=["known_errors", "problems"])
    assert kinds(hits) == {
        ("known_errors", ke.number),
        ("problems", ke.number),
        ("problems", other.number),
    }
    hit = next(h for h in hits if h.kind == "known_errors")
    assert hit.url == f"/problems/{ke.number}/"
    assert hit.summary == "Restart the mail client."


def test_end_users_find_only_public_known_errors(agent, alice, service_desk):
    public = known_error(
        agent, service_desk, title="Relay slow", workaround="Send smaller files. " * 30, public=True
    )
    known_error(agent, service_desk, title="Relay internal", workaround="Reboot relay-2")
    make_problem(agent, title="Relay under analysis")
    hits = search.search(alice, "relay", kinds=["known_errors", "problems"])
    assert kinds(hits) == {("known_errors", public.number)}
    assert hits[0].url == f"/portal/known-errors/{public.number}/"
    assert len(hits[0].summary) <= 200 and hits[0].summary.startswith("Send smaller files.")
    assert kinds(search.suggest(alice, "rel")) == {("known_errors", public.number)}


def test_search_reaches_the_workaround_and_description(agent, service_desk):
    ke = known_error(
        agent,
        service_desk,
        title="Outbox stuck",
        workaround="Clear the offline cache",
        description="Happens after hibernation",
    )
    assert kinds(search.search(agent, "cache", kinds=["known_errors"])) == {
        ("known_errors", ke.number)
    }
    assert kinds(search.search(agent, "hibernation", kinds=["problems"])) == {
        ("problems", ke.number)
    }


@requires_postgres
def test_vector_column_exists_and_matches(agent, service_desk):
    ke = known_error(agent, service_desk, title="Printer jams", workaround="Use tray two")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data_type, is_generated FROM information_schema.columns "
            "WHERE table_name = 'problems_problem' AND column_name = 'search_vector'"
        )
        assert cursor.fetchone() == ("tsvector", "ALWAYS")
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'problems_problem' "
            "AND indexname = 'problems_problem_search'"
        )
        assert "gin" in cursor.fetchone()[0].lower()
        cursor.execute(
            "SELECT number FROM problems_problem "
            "WHERE search_vector @@ websearch_to_tsquery('english', %s)",
            ["trays"],
        )
        assert cursor.fetchall() == [(ke.number,)]
        # Title outranks workaround.
        cursor.execute(
            "SELECT ts_rank_cd(search_vector, to_tsquery('english', 'printer')) > "
            "ts_rank_cd(search_vector, to_tsquery('english', 'tray')) FROM problems_problem"
        )
        assert cursor.fetchone()[0] is True
