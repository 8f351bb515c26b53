"""Shared set-up for the bench scripts: environment, Django, PostgreSQL-only guard.

Bench scripts are run by hand (``python bench/<script>.py``); they are not tests, are not
collected by pytest (its testpaths is ``tests``) and never gate CI.
"""

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench"
#: Settings write their data directory (secret key, broker folders) at import time: keep
#: the bench's out of the repository.
DATA_DIR = Path(tempfile.gettempdir()) / "itsm-bench-data"


def database_url(cli_value: str | None) -> str:
    url = cli_value or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        sys.exit(f"Refusing to run: the bench needs PostgreSQL, not {url.split(':', 1)[0]!r}.")
    return url


def bench_env(url: str) -> dict[str, str]:
    """The environment the app runs with during the bench (also given to gunicorn)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="itsm.settings",
        DEBUG="0",
        ITSM_DATA_DIR=str(DATA_DIR),
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-not-a-secret-0123456789abcdef",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
    )
    return env


def prepare_data_dir() -> None:
    # WhiteNoise warns at start-up when STATIC_ROOT is missing; the API serves no static.
    (DATA_DIR / "staticfiles").mkdir(parents=True, exist_ok=True)


def setup_django(url: str) -> None:
    prepare_data_dir()
    os.environ.update(bench_env(url))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Refusing to run: the bench needs PostgreSQL.")


def plain_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint."""
    cursor.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname
        """,
        [table],
    )
    return cursor.fetchall()


def allow_resetting(cursor) -> None:
    """The bench database is emptied between runs: let this connection delete and truncate
    timeline entries and attachments, which the audit trail's triggers refuse to anyone
    else (``itsm.audit.db``; the same settings a retention run and the test suite use)."""
    cursor.execute(
        "SELECT set_config('itsm.rewrite', 'bench reset', false),"
        " set_config('itsm.rewrite_remove', 'on', false),"
        " set_config('itsm.allow_truncate', 'on', false)"
    )
