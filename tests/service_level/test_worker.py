"""SLA timers under a real Celery worker with embedded beat on Redis, on the test database.

A short target breaches and its escalation happens exactly once; a worker killed in the
middle of an escalation leaves nothing committed, and the escalation happens exactly once
after a fresh worker starts (the sweep queues it again after ``SLA_REQUEUE_AFTER``; the
broker may also hand the unacknowledged message back: either way, once).

The worker is a subprocess (``celery -A itsm worker -B``) whose environment points at the
database pytest-django created, so the test's data is committed (``transaction=True``)."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from itsm.core.models import JournalEntry, Notification
from practices.service_level.models import Escalation, Timer
from tests import factories
from tests.conftest import requires_postgres
from tests.service_level.conftest import agreement

REPO = Path(__file__).resolve().parents[2]
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
#: A Redis database of its own (one per pytest-xdist worker), flushed before and after each
#: test.
REDIS_DB = 11 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % 5
BROKER_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
SWEEP_SECONDS = 1
REQUEUE_AFTER = 3


def _redis():
    import redis

    return redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2)


def _redis_answers() -> bool:
    try:
        return bool(_redis().ping())
    except Exception:
        return False


pytestmark = [
    requires_postgres,
    pytest.mark.skipif(
        connection.vendor == "postgresql" and not _redis_answers(),
        reason=f"needs Redis on {REDIS_HOST}:{REDIS_PORT}",
    ),
    pytest.mark.django_db(transaction=True),
]


def wait_for(condition, timeout: float, what: str, worker=None, interval: float = 0.1):
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if worker is not None and worker.process.poll() is not None:
            pytest.fail(
                f"the worker exited ({worker.process.returncode}) while waiting for "
                f"{what}\n{worker.tail()}"
            )
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out after {timeout} s waiting for {what}"
                + (f"\n{worker.tail()}" if worker else "")
            )
        time.sleep(interval)


def database_url() -> str:
    """The test database (NAME is the one pytest-django created) as a URL."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


def other_sessions() -> list[tuple]:
    """Sessions on the test database other than the test's own (the worker's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, now() - xact_start, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


class Worker:
    """``celery -A itsm worker -B`` in its own process group, logging to a file."""

    def __init__(self, directory: Path, name: str, **env: str):
        self.log = directory / f"worker-{name}.log"
        data = directory / "data"
        (data / "staticfiles").mkdir(parents=True, exist_ok=True)
        environment = {
            key: value
            for key, value in os.environ.items()
            # The test process's own Celery, SLA and mail settings must not leak in.
            if not key.startswith(("CELERY_", "SLA_", "EMAIL_", "DATABASE_URL", "DB_"))
        }
        environment.update(
            DJANGO_SETTINGS_MODULE="itsm.settings",
            DATABASE_URL=database_url(),
            DB_CONN_MAX_AGE="0",
            CELERY_BROKER_URL=BROKER_URL,
            CELERY_TASK_ALWAYS_EAGER="0",
            SLA_SWEEP_SECONDS=str(SWEEP_SECONDS),
            SLA_REQUEUE_AFTER=str(REQUEUE_AFTER),
            ITSM_DATA_DIR=str(data),
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            **env,
        )
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "itsm",
            "worker",
            "-B",
            "--schedule",
            str(directory / f"celerybeat-schedule-{name}"),
            "--concurrency",
            "1",
            "--loglevel",
            "info",
            "--hostname",
            f"sla-test-{name}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: main, pool child, beat
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "--- worker log ---\n" + "\n".join(self.text().splitlines()[-lines:])

    def count(self, needle: str) -> int:
        return self.text().count(needle)

    def wait_ready(self, timeout: float = 30) -> None:
        wait_for(lambda: " ready." in self.text(), timeout, "the worker to be ready", self)

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing gets to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):  # what is left: pool child, beat
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=10)


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start workers on the test database; they are all stopped at teardown, before the
    database is flushed."""
    _redis().flushdb()
    started: list[Worker] = []

    def start(name: str, **env: str) -> Worker:
        worker = Worker(tmp_path, name, **env)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    try:
        for worker in started:
            worker.stop()
        # The flush (and the drop of the test database) must not wait on their sessions.
        wait_for(lambda: not other_sessions(), 15, "the worker's database sessions to end")
    finally:
        _redis().flushdb()


def short_sla(calendar, seconds: int):
    return agreement(
        f"{seconds} seconds",
        calendar,
        resolution=timedelta(seconds=seconds),
        thresholds=[{"percent": 100, "notify_assignee": True}],
    )


def breach_notifications(incident):
    return list(
        Notification.objects.filter(
            object_id=incident.pk, subject__startswith=f"SLA breached: {incident.number}"
        )
    )


def escalation_journal(incident):
    return JournalEntry.objects.for_record(incident).filter(kind="sla", body__contains="notified")


def test_a_short_target_breaches_and_escalates_exactly_once(
    start_worker, always, alice, agent, service_desk
):
    short_sla(always, 3)
    worker = start_worker("breach")
    incident = factories.incident(
        alice, actor=agent, assignment_group=service_desk, assigned_to=agent
    )
    timer = Timer.objects.get(object_id=incident.pk, metric="resolution")
    assert timer.due_at == incident.created_at + timedelta(seconds=3)
    escalation = Escalation.objects.get(timer=timer)

    wait_for(
        lambda: Escalation.objects.filter(pk=escalation.pk, state="done").exists(),
        12,
        "the breach escalation to be done",
        worker,
    )
    timer.refresh_from_db()
    assert (timer.state, timer.breached) == ("breached", True), worker.tail()
    assert timer.breached_at == timer.due_at
    # The sweep that recorded it ran within a sweep interval of the due time (plus some
    # scheduling slack for a busy machine); the requirement is 60 s.
    late = (timer.updated_at - timer.due_at).total_seconds()
    assert 0 <= late <= SWEEP_SECONDS + 2, f"breach recorded {late} s late\n{worker.tail()}"
    escalation.refresh_from_db()
    assert (escalation.attempts, escalation.outcome) == (1, f"notified {agent}"), worker.tail()
    sent = breach_notifications(incident)
    assert [n.recipient_id for n in sent] == [agent.pk], worker.tail()

    # A few more sweeps change nothing.
    sweeps = worker.count("sweep_timers[")
    time.sleep(3 * SWEEP_SECONDS + 0.5)
    assert worker.count("sweep_timers[") > sweeps, worker.tail()
    assert len(breach_notifications(incident)) == 1, worker.tail()
    again = Escalation.objects.get(pk=escalation.pk)
    assert (again.state, again.attempts, again.done_at) == ("done", 1, escalation.done_at)
    assert escalation_journal(incident).count() == 1
    breaches = JournalEntry.objects.for_record(incident).filter(
        kind="sla", body__contains="breached (due"
    )
    assert breaches.count() == 1, worker.tail()
    assert "Traceback" not in worker.text(), worker.tail()


def test_a_worker_killed_mid_escalation_escalates_once_after_restart(
    start_worker, always, alice, agent, service_desk
):
    short_sla(always, 2)
    first = start_worker("killed", SLA_ESCALATION_DELAY="5")
    incident = factories.incident(
        alice, actor=agent, assignment_group=service_desk, assigned_to=agent
    )
    escalation = Escalation.objects.get(timer__object_id=incident.pk)
    wait_for(
        lambda: Escalation.objects.filter(pk=escalation.pk, state="queued").exists(),
        10,
        "the sweep to queue the escalation",
        first,
    )
    # In flight: the task was received and its transaction has been open for a while (it
    # sleeps SLA_ESCALATION_DELAY seconds holding the row lock, the notification written).
    wait_for(
        lambda: (
            "run_escalation[" in first.text()
            and any(
                state == "idle in transaction" and age and age.total_seconds() >= 1
                for _, state, age, _ in other_sessions()
            )
        ),
        8,
        "the escalation to be in flight",
        first,
    )
    first.kill()
    wait_for(lambda: not other_sessions(), 10, "the killed worker's sessions to end")

    # Nothing of the escalation was committed.
    escalation.refresh_from_db()
    assert (escalation.state, escalation.done_at, escalation.outcome) == ("queued", None, "")
    assert breach_notifications(incident) == []
    assert escalation_journal(incident).count() == 0
    assert "succeeded" not in "".join(
        line for line in first.text().splitlines() if "run_escalation[" in line
    )

    second = start_worker("restarted")
    wait_for(
        lambda: Escalation.objects.filter(pk=escalation.pk, state="done").exists(),
        REQUEUE_AFTER + 10,
        "the escalation to be done after the restart",
        second,
    )
    escalation.refresh_from_db()
    assert escalation.attempts >= 1
    sent = breach_notifications(incident)
    assert [n.recipient_id for n in sent] == [agent.pk], second.tail()

    # More sweeps (and any redelivery of the lost message) change nothing.
    sweeps = second.count("sweep_timers[")
    time.sleep(3 * SWEEP_SECONDS + 0.5)
    assert second.count("sweep_timers[") > sweeps, second.tail()
    assert len(breach_notifications(incident)) == 1, second.tail()
    again = Escalation.objects.get(pk=escalation.pk)
    assert (again.state, again.done_at) == ("done", escalation.done_at)
    assert escalation_journal(incident).count() == 1
    timer = Timer.objects.get(pk=escalation.timer_id)
    assert (timer.state, timer.breached_at) == ("breached", timer.due_at)
