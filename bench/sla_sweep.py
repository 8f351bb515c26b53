"""SLA sweep with a million running timers in PostgreSQL, and the calendar engine's speed.

Run by hand against a dedicated PostgreSQL database (created if missing; SQLite refused):

    .venv/bin/python bench/sla_sweep.py                 # load, then measure
    .venv/bin/python bench/sla_sweep.py --no-load       # measure again on the loaded data
    .venv/bin/python bench/sla_sweep.py --what-if       # also EXPLAIN the proposed UPDATEs

Not collected by pytest (not a ``test_*.py``; testpaths is ``tests``), never gates CI.

1. ``migrate``; reference data with the ORM (idempotent): a 24x7 calendar, a 9-17 Mon-Fri
   Europe/Berlin calendar with DE public holidays, four SLAs with a resolution target (4 h,
   8 h, 24 h, 72 h, 24x7) and two thresholds each (50% and 100%).
2. Unless ``--no-load``: in one transaction, empties the timer and escalation tables (and
   the sweep's journal entries), drops their secondary indexes and foreign keys, streams
   the rows with ``COPY ... FROM STDIN`` (psycopg2 ``copy_expert``) in chunks generated on
   the fly, rebuilds the indexes and foreign keys; then ``VACUUM (ANALYZE)``. Rows:
   ``--timers`` running timers (default 1,000,000) with ``due_at`` spread evenly over the
   next ``--spread-hours`` (default 24 h: ~11.6 fall due per second, ~170 per 15 s sweep),
   ``--paused`` paused ones (no due time), ``--finished`` met/breached/cancelled ones of the
   last 180 days; two escalations per timer (50%: done when already past, else pending;
   100%: pending at the timer's due time). Timers point at fake incident ids (the sweep
   never loads records; ``escalate`` would, and is not measured here).
3. Sweeps: ``services.sweep(now=...)`` at simulated instants after the load instant T0
   (stored in the first agreement's description; ``--no-load`` continues after the last
   recorded breach). For each ``--steps`` interval (default 15, 60, 300 s) ``--runs``
   sweeps, each ``step`` seconds after the previous one; after each (untimed) the queued
   escalations are marked done, as workers would. Then an outage of ``--outage`` seconds
   (default 1,800): sweeps every 15 simulated seconds until one takes less than a batch.
4. ``EXPLAIN (ANALYZE, BUFFERS)`` of the two UPDATEs of a sweep (the SQL ``sweep`` sends,
   caught with ``connection.execute_wrapper``), one interval after the first series and
   after the outage, inside a transaction that is rolled back; with ``--what-if`` also of the
   proposed statements (partial index in due order, ``FOR UPDATE SKIP LOCKED``, condition
   repeated in the outer WHERE), at the same instants.
5. The calendar engine: ``services.engine(calendar).add(start, seconds)`` ``--calendar-calls``
   times (default 100,000) on both calendars, random starts over 2026-2027, a fresh
   engine (cold day cache) then the same calls again (warm).

Celery: the bench runs with ``CELERY_BROKER_URL=memory://`` and eager mode off, so the
tasks a sweep queues after commit go to an in-process memory broker and nothing runs them.
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_sla_bench"
CHUNK = 50_000
TIMER_TABLE = "service_level_timer"
ESCALATION_TABLE = "service_level_escalation"
BENCH_MARK = "SLA bench T0="
#: (name, hours, priority, share of timers)
TARGETS = [("P1", 4, 1, 0.05), ("P2", 8, 2, 0.15), ("P3", 24, 3, 0.50), ("P4", 72, 4, 0.30)]
TIMER_COLUMNS = (
    "id, content_type_id, object_id, record_number, agreement_id, target_id, name, metric, "
    "state, breached, started_at, due_at, business_elapsed, checkpoint_at, paused_at, "
    "paused_seconds, stopped_at, breached_at, breach_reason, team_id, priority, service_id, "
    "updated_at"
)
ESCALATION_COLUMNS = (
    "id, timer_id, threshold_id, due_at, state, queued_at, done_at, attempts, outcome"
)
N = "\\N"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="PostgreSQL only (default $SLA_BENCH_DATABASE_URL or " + DEFAULT_DATABASE_URL + ")",
    )
    parser.add_argument("--timers", type=int, default=1_000_000, help="running timers")
    parser.add_argument("--paused", type=int, default=50_000, help="paused timers")
    parser.add_argument("--finished", type=int, default=1_000_000, help="met/breached/cancelled")
    parser.add_argument("--spread-hours", type=float, default=24.0, help="running due_at span")
    parser.add_argument("--no-load", action="store_true", help="measure the loaded data again")
    parser.add_argument("--runs", type=int, default=7, help="sweeps per step")
    parser.add_argument("--steps", default="15,60,300", help="seconds between sweeps, per series")
    parser.add_argument("--outage", type=float, default=1800.0, help="seconds of downtime")
    parser.add_argument("--calendar-calls", type=int, default=100_000)
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--skip-calendar", action="store_true")
    parser.add_argument(
        "--what-if", action="store_true", help="also EXPLAIN the proposed UPDATEs (rolled back)"
    )
    parser.add_argument(
        "--vacuum", action="store_true", help="with --no-load: VACUUM (ANALYZE) before measuring"
    )
    parser.add_argument("--seed", type=int, default=20261126)
    return parser.parse_args()


def ensure_database(url: str) -> None:
    """CREATE DATABASE when it does not exist (connecting to the ``postgres`` database)."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(maintenance)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                print(f"creating database {name}", flush=True)
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


# Reference data ------------------------------------------------------------------------


def reference_data() -> dict:
    from django.contrib.contenttypes.models import ContentType

    from incidents.models import Incident
    from practices.service_level.models import (
        Agreement,
        BusinessCalendar,
        Target,
        Threshold,
        WorkingPeriod,
    )

    always, _ = BusinessCalendar.objects.get_or_create(
        name="SLA bench 24x7", defaults={"always_open": True}
    )
    office, created = BusinessCalendar.objects.get_or_create(
        name="SLA bench office DE",
        defaults={"time_zone": "Europe/Berlin", "holiday_country": "DE"},
    )
    if created:
        WorkingPeriod.objects.bulk_create(
            WorkingPeriod(calendar=office, weekday=day, start=dtime(9), end=dtime(17))
            for day in range(5)
        )
    incident_ct = ContentType.objects.get_for_model(Incident)
    targets = []
    for name, hours, priority, share in TARGETS:
        agreement, _ = Agreement.objects.get_or_create(
            name=f"SLA bench {name}",
            defaults={"record_type": incident_ct, "priorities": str(priority), "order": priority},
        )
        target, _ = Target.objects.get_or_create(
            agreement=agreement,
            metric="resolution",
            defaults={
                "name": f"Resolve in {hours}h",
                "duration": timedelta(hours=hours),
                "calendar": always,
            },
        )
        thresholds = {}
        for percent in (50, 100):
            threshold, _ = Threshold.objects.get_or_create(agreement=agreement, percent=percent)
            thresholds[percent] = threshold.pk
        targets.append(
            {
                "agreement": agreement,
                "target": target.pk,
                "name": target.name,
                "seconds": hours * 3600.0,
                "priority": priority,
                "share": share,
                "thresholds": thresholds,
            }
        )
    return {"always": always, "office": office, "incident_ct": incident_ct.pk, "targets": targets}


# Loading --------------------------------------------------------------------------------


def ts(epoch: float | None) -> str:
    if epoch is None:
        return N
    return datetime.fromtimestamp(epoch, UTC).isoformat(sep=" ")


def timer_rows(ref: dict, t0: float, options, rng: random.Random):
    """Yields (timer line, [escalation lines]) for every timer to load."""
    targets = ref["targets"]
    weights = [t["share"] for t in targets]
    ct = ref["incident_ct"]
    spread = options.spread_hours * 3600.0
    escalation_id = 0
    kinds = [
        ("running", options.timers),
        ("paused", options.paused),
        ("finished", options.finished),
    ]
    timer_id = 0
    for kind, count in kinds:
        for _ in range(count):
            timer_id += 1
            target = rng.choices(targets, weights)[0]
            total = target["seconds"]
            breached = False
            paused_at = stopped_at = breached_at = None
            elapsed = 0.0
            if kind == "running":
                state = "running"
                due = t0 + rng.uniform(0.0, spread)
                started = due - total
            elif kind == "paused":
                state = "paused"
                elapsed = rng.uniform(0.0, total * 0.9)
                started = t0 - elapsed - rng.uniform(0.0, 3 * 86400)
                paused_at = t0 - rng.uniform(0.0, 86400)
                due = None
            else:
                planned = t0 - rng.uniform(0.0, 180 * 86400)
                started = planned - total
                roll = rng.random()
                if roll < 0.80:
                    state = "met"
                    stopped_at = started + total * rng.uniform(0.05, 0.99)
                elif roll < 0.95:
                    state = "breached"
                    breached = True
                    breached_at = planned
                    stopped_at = planned + total * rng.uniform(0.01, 1.0)
                else:
                    state = "cancelled"
                    stopped_at = started + total * rng.uniform(0.0, 0.99)
                elapsed = min(stopped_at, t0) - started
                due = planned
            checkpoint = paused_at or stopped_at or started
            timer = "\t".join(
                (
                    str(timer_id),
                    str(ct),
                    str(1_000_000_000 + timer_id),
                    f"SLAB{timer_id:08d}",
                    str(target["agreement"].pk),
                    str(target["target"]),
                    target["name"],
                    "resolution",
                    state,
                    "t" if breached else "f",
                    ts(started),
                    ts(due),
                    repr(elapsed),
                    ts(checkpoint),
                    ts(paused_at),
                    "0",
                    ts(stopped_at),
                    ts(breached_at),
                    "",
                    N,
                    str(target["priority"]),
                    N,
                    ts(checkpoint),
                )
            )
            escalations = []
            for percent in (50, 100):
                escalation_id += 1
                at = started + total * percent / 100
                queued = done = None
                attempts, outcome = 0, ""
                if state in ("running", "paused"):
                    if at <= t0 and (paused_at is None or at <= paused_at):
                        esc_state, queued, done, attempts = "done", at + 1, at + 2, 1
                        outcome = "notified agent"
                    else:
                        esc_state = "pending"
                    esc_due = at if state == "running" else None
                    if esc_state == "done":
                        esc_due = at
                else:
                    if state == "cancelled" or at > stopped_at:
                        esc_state, esc_due = "skipped", None
                    else:
                        esc_state, esc_due, queued, done, attempts = "done", at, at + 1, at + 2, 1
                        outcome = "notified agent"
                escalations.append(
                    "\t".join(
                        (
                            str(escalation_id),
                            str(timer_id),
                            str(target["thresholds"][percent]),
                            ts(esc_due),
                            esc_state,
                            ts(queued),
                            ts(done),
                            str(attempts),
                            outcome,
                        )
                    )
                )
            yield timer, escalations


def constraints(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's foreign keys and unique constraints."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype DESC, conname",
        [table],
    )
    return cursor.fetchall()


def load(ref: dict, options, rng: random.Random) -> tuple[datetime, dict]:
    from django.db import connection, transaction

    from practices.service_level.models import Agreement

    t0 = time.time()
    phases = {}
    total = options.timers + options.paused + options.finished
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        began = time.monotonic()
        cursor.execute(f"TRUNCATE {ESCALATION_TABLE}, {TIMER_TABLE} RESTART IDENTITY")
        cursor.execute(
            "DELETE FROM core_journalentry WHERE kind = 'sla' AND content_type_id = %s "
            "AND object_id > 1000000000",
            [ref["incident_ct"]],
        )
        saved = {}
        for table in (ESCALATION_TABLE, TIMER_TABLE):
            saved[table] = (benchlib.plain_indexes(cursor, table), constraints(cursor, table))
        for table, (indexes, keys) in saved.items():
            for name, _ in keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        phases["truncate, drop indexes"] = time.monotonic() - began

        began = time.monotonic()
        rows = timer_rows(ref, t0, options, rng)
        done = escalations = 0
        while done < total:
            timers_buffer, escalations_buffer = io.StringIO(), io.StringIO()
            n = 0
            for timer, lines in rows:
                timers_buffer.write(timer + "\n")
                for line in lines:
                    escalations_buffer.write(line + "\n")
                    escalations += 1
                n += 1
                if n == CHUNK:
                    break
            if not n:
                break
            timers_buffer.seek(0)
            escalations_buffer.seek(0)
            cursor.cursor.copy_expert(
                f"COPY {TIMER_TABLE} ({TIMER_COLUMNS}) FROM STDIN (FORMAT text)", timers_buffer
            )
            cursor.cursor.copy_expert(
                f"COPY {ESCALATION_TABLE} ({ESCALATION_COLUMNS}) FROM STDIN (FORMAT text)",
                escalations_buffer,
            )
            done += n
            elapsed = time.monotonic() - began
            if done % (CHUNK * 10) == 0 or done == total:
                print(
                    f"  {done:>10,} timers {escalations:>10,} escalations {elapsed:7.1f} s "
                    f"{(done + escalations) / elapsed:9,.0f} rows/s",
                    flush=True,
                )
        phases[f"COPY {done:,} timers + {escalations:,} escalations"] = time.monotonic() - began

        began = time.monotonic()
        for _table, (indexes, _) in saved.items():
            for _, definition in indexes:
                cursor.execute(definition)
        phases["rebuild indexes"] = time.monotonic() - began
        began = time.monotonic()
        for table in (TIMER_TABLE, ESCALATION_TABLE):
            for name, definition in saved[table][1]:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        phases["re-add constraints (validated)"] = time.monotonic() - began
        for table in (TIMER_TABLE, ESCALATION_TABLE):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        first = ref["targets"][0]["agreement"]
        Agreement.objects.filter(pk=first.pk).update(
            description=f"{BENCH_MARK}{datetime.fromtimestamp(t0, UTC).isoformat()}"
        )
    began = time.monotonic()
    vacuum_analyze()
    phases["VACUUM (ANALYZE)"] = time.monotonic() - began
    return datetime.fromtimestamp(t0, UTC), phases


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        cursor.execute(f"VACUUM (ANALYZE) {TIMER_TABLE}, {ESCALATION_TABLE}")
        cursor.execute("ANALYZE core_journalentry")


def bench_t0(ref: dict) -> datetime:
    from practices.service_level.models import Agreement

    text = Agreement.objects.get(pk=ref["targets"][0]["agreement"].pk).description
    if not text.startswith(BENCH_MARK):
        sys.exit("No bench data loaded yet: run without --no-load first.")
    return datetime.fromisoformat(text.removeprefix(BENCH_MARK))


# Sweeps ---------------------------------------------------------------------------------


class SqlTimer:
    """``connection.execute_wrapper``: time spent in SQL, and optionally EXPLAIN the
    sweep's UPDATEs (in a savepoint rolled back) before running them for real."""

    def __init__(self, explain: bool = False):
        self.seconds = 0.0
        self.explain = explain
        self.plans: list[tuple[str, list[str]]] = []

    def __call__(self, execute, sql, params, many, context):
        if self.explain and sql.startswith("UPDATE service_level_"):
            cursor = context["cursor"]
            cursor.execute("SAVEPOINT sla_bench_explain")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            cursor.execute("ROLLBACK TO SAVEPOINT sla_bench_explain")
            self.plans.append((sql.split(" SET ")[0], plan))
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - began


def timed_sweep(now: datetime) -> dict:
    from django.db import connection

    from practices.service_level import services

    sql = SqlTimer()
    began = time.perf_counter()
    with connection.execute_wrapper(sql):
        result = services.sweep(now=now)
    result["seconds"] = time.perf_counter() - began
    result["sql"] = sql.seconds
    return result


def workers_catch_up(now: datetime) -> None:
    """What the workers would do: every queued escalation done (untimed)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ESCALATION_TABLE} SET state = 'done', done_at = %s WHERE state = 'queued'",
            [now],
        )


def summary(label: str, results: list[dict]) -> str:
    seconds = [r["seconds"] * 1000 for r in results]
    sql = [r["sql"] * 1000 for r in results]
    breached = [r["breached"] for r in results]
    queued = [r["queued"] for r in results]
    return (
        f"| {label} | {len(results)} | {statistics.median(seconds):.1f} | {max(seconds):.1f} | "
        f"{statistics.median(sql):.1f} | {min(breached):,}-{max(breached):,} | "
        f"{min(queued):,}-{max(queued):,} |"
    )


def explain(now: datetime) -> None:
    from django.db import connection, transaction

    from practices.service_level import services

    wrapper = SqlTimer(explain=True)
    with transaction.atomic():
        with connection.execute_wrapper(wrapper):
            result = services.sweep(now=now)
        transaction.set_rollback(True)
    print(f"  (rolled back: would have breached {result['breached']}, queued {result['queued']})")
    for statement, plan in wrapper.plans:
        print(f"  {statement}:")
        for line in plan:
            print("    " + line)


#: The sweep's two UPDATEs as proposed (``--what-if``): each subquery walks its partial
#: index in due order, locks with SKIP LOCKED, and the outer WHERE repeats the condition so
#: a row changed meanwhile (an escalation done, a timer met) is left alone.
WHAT_IF = [
    (
        "UPDATE service_level_timer (proposed)",
        f"UPDATE {TIMER_TABLE} SET state = 'breached', breached = true, breached_at = due_at, "
        f"updated_at = %(now)s WHERE id IN (SELECT id FROM {TIMER_TABLE} WHERE state = 'running' "
        f"AND due_at <= %(now)s ORDER BY due_at LIMIT 5000 FOR UPDATE SKIP LOCKED) "
        f"AND state = 'running' AND due_at <= %(now)s "
        f"RETURNING id, content_type_id, object_id, name, due_at",
    ),
    (
        "UPDATE service_level_escalation (proposed)",
        f"UPDATE {ESCALATION_TABLE} SET state = 'queued', queued_at = %(now)s, "
        f"attempts = attempts + 1 WHERE id IN ("
        f"SELECT id FROM (SELECT id FROM {ESCALATION_TABLE} WHERE state = 'pending' "
        f"AND due_at <= %(now)s ORDER BY due_at LIMIT 5000 FOR UPDATE SKIP LOCKED) p "
        f"UNION ALL SELECT id FROM (SELECT id FROM {ESCALATION_TABLE} WHERE state = 'queued' "
        f"AND queued_at < %(stale)s ORDER BY queued_at LIMIT 5000 FOR UPDATE SKIP LOCKED) q) "
        f"AND ((state = 'pending' AND due_at <= %(now)s) "
        f"OR (state = 'queued' AND queued_at < %(stale)s)) RETURNING id",
    ),
]


def what_if(now: datetime) -> None:
    from django.conf import settings
    from django.db import connection, transaction

    params = {"now": now, "stale": now - timedelta(seconds=settings.SLA_REQUEUE_AFTER)}
    with transaction.atomic(), connection.cursor() as cursor:
        for label, sql in WHAT_IF:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print(f"  {label}:")
            for (line,) in cursor.fetchall():
                print("    " + line)
        transaction.set_rollback(True)


def run_sweeps(options, ref: dict, t0: datetime) -> None:
    from django.db import connection

    from practices.service_level import services

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT max(breached_at) FROM {TIMER_TABLE} "
            "WHERE state = 'breached' AND stopped_at IS NULL"
        )
        last = cursor.fetchone()[0]
        cursor.execute(f"SELECT state, count(*) FROM {TIMER_TABLE} GROUP BY state ORDER BY state")
        timers = dict(cursor.fetchall())
        cursor.execute(
            f"SELECT state, count(*) FROM {ESCALATION_TABLE} GROUP BY state ORDER BY state"
        )
        escalations = dict(cursor.fetchall())
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size(%s)), "
            "pg_size_pretty(pg_total_relation_size(%s))",
            [TIMER_TABLE, ESCALATION_TABLE],
        )
        sizes = cursor.fetchone()
    now = max(t0, last) if last else t0
    workers_catch_up(now)  # queued ones left by an earlier run
    print(f"timers: {timers} ({sizes[0]})")
    print(f"escalations: {escalations} ({sizes[1]})")
    print(f"T0 {t0:%Y-%m-%d %H:%M:%S} UTC, sweeps from T0 + {(now - t0).total_seconds():,.0f} s")
    print(f"SWEEP_BATCH {services.SWEEP_BATCH:,}")

    # Warm-up (caches, connection): one sweep, not counted.
    now += timedelta(seconds=1)
    timed_sweep(now)
    workers_catch_up(now)

    rows = []
    for number, step in enumerate(float(s) for s in options.steps.split(",") if s):
        results = []
        for _ in range(options.runs):
            now += timedelta(seconds=step)
            results.append(timed_sweep(now))
            workers_catch_up(now)
        rows.append(summary(f"every {step:g} s", results))
        print(rows[-1], flush=True)
        if number == 0:  # the steady state: what one sweep interval brings
            print(f"\nEXPLAIN (ANALYZE, BUFFERS), {step:g} s after the last sweep, rolled back:")
            explain(now + timedelta(seconds=step))
            if options.what_if:
                print("\nThe same with the proposed statements, rolled back:")
                what_if(now + timedelta(seconds=step))
            print()

    print(f"\nEXPLAIN (ANALYZE, BUFFERS), after an outage of {options.outage:g} s, rolled back:")
    explain(now + timedelta(seconds=options.outage))
    if options.what_if:
        print("\nThe same with the proposed statements, rolled back:")
        what_if(now + timedelta(seconds=options.outage))

    # Outage: nothing swept for a while, then a sweep every 15 simulated seconds.
    outage_start = now
    now += timedelta(seconds=options.outage)
    results = []
    began = time.perf_counter()
    while True:
        result = timed_sweep(now)
        workers_catch_up(now)
        results.append(result)
        if (
            result["breached"] < services.SWEEP_BATCH and result["queued"] < services.SWEEP_BATCH
        ) or len(results) > 500:
            break
        now += timedelta(seconds=15)
    wall = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), max(updated_at - due_at), "
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - due_at))"
            f" FROM {TIMER_TABLE} WHERE state = 'breached' AND stopped_at IS NULL"
            f" AND updated_at > %s",
            [outage_start],
        )
        count, worst, median = cursor.fetchone()
    rows.append(summary(f"catch-up after {options.outage:g} s down", results))
    print("\n| sweeps | runs | p50 ms | max ms | p50 SQL ms | breached/run | queued/run |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(row)
    print(
        f"\ncatch-up: {len(results)} sweeps (one per 15 simulated s) for "
        f"{sum(r['breached'] for r in results):,} breaches and "
        f"{sum(r['queued'] for r in results):,} escalations, {wall:.1f} s of sweeping; "
        f"breach recorded after its due time: median {median or 0:,.0f} s, "
        f"max {worst.total_seconds() if worst else 0:,.0f} s (of {count:,} timers; "
        f"the outage itself accounts for up to {options.outage:g} s)"
    )


# Calendar engine ----------------------------------------------------------------------------


def calendar_speed(ref: dict, calls: int, rng: random.Random) -> None:
    from practices.service_level import services

    low = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    span = 2 * 365 * 86400
    starts = [datetime.fromtimestamp(low + rng.uniform(0, span), UTC) for _ in range(calls)]
    amounts = [rng.choice((4, 8, 24, 40, 72)) * 3600.0 for _ in range(calls)]
    print("\n| calendar | calls | cold add()/s | warm add()/s | warm seconds_between()/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, calendar in (
        ("9-17 Mon-Fri Europe/Berlin + DE holidays", ref["office"]),
        ("24x7", ref["always"]),
    ):
        services._engines.clear()  # a fresh engine: cold per-day cache
        rates = []
        for _ in range(2):
            began = time.perf_counter()
            ends = [
                services.engine(calendar).add(start, seconds)
                for start, seconds in zip(starts, amounts, strict=True)
            ]
            rates.append(calls / (time.perf_counter() - began))
        began = time.perf_counter()
        for start, end in zip(starts, ends, strict=True):
            services.engine(calendar).seconds_between(start, end)
        between = calls / (time.perf_counter() - began)
        # The engine's result is right: business time between start and due is the target.
        checks = rng.sample(range(calls), 100)
        cal = services.engine(calendar)
        assert all(abs(cal.seconds_between(starts[i], ends[i]) - amounts[i]) < 1e-3 for i in checks)
        print(f"| {label} | {calls:,} | {rates[0]:,.0f} | {rates[1]:,.0f} | {between:,.0f} |")


def main() -> None:
    options = parse_args()
    url = benchlib.database_url(
        options.database_url or os.environ.get("SLA_BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    ensure_database(url)
    # Tasks queued after commit go to an in-process memory broker; nothing runs them.
    os.environ.update(
        CELERY_BROKER_URL="memory://",
        CELERY_TASK_ALWAYS_EAGER="0",
        SLA_ESCALATION_DELAY="0",
        SLA_REQUEUE_AFTER=os.environ.get("SLA_REQUEUE_AFTER", "300"),
    )
    benchlib.setup_django(url)
    from django.core.management import call_command

    rng = random.Random(options.seed)
    began = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrate: {time.monotonic() - began:.1f} s", flush=True)
    ref = reference_data()

    if not options.skip_sweep:
        if options.no_load:
            t0 = bench_t0(ref)
            if options.vacuum:
                vacuum_analyze()
        else:
            began = time.monotonic()
            t0, phases = load(ref, options, rng)
            print("\n| phase | seconds |\n| --- | ---: |")
            for phase, seconds in phases.items():
                print(f"| {phase} | {seconds:.1f} |")
            print(f"| **total** | {time.monotonic() - began:.1f} |\n", flush=True)
        run_sweeps(options, ref, t0)
    if not options.skip_calendar:
        calendar_speed(ref, options.calendar_calls, rng)


if __name__ == "__main__":
    main()
