"""Change enablement at size: conflict detection and risk of a change touching 50 CIs in a
CMDB of 100,000 CIs and 500,000 relationships with 20,000 scheduled changes (p50/p95/p99),
the calendar's month view with 2,000 changes, and the DevOps gate's throughput.

Run by hand after ``bench/generate_changes.py`` (same database; SQLite refused):

    .venv/bin/python bench/changes.py                 # everything, in-process
    .venv/bin/python bench/changes.py --http          # and the gate through gunicorn
    .venv/bin/python bench/changes.py --profile       # and cProfile of each measurement

Not collected by pytest, never gates CI.

Each measurement runs ``--runs`` times (after two unmeasured warm-up runs) and prints
p50, p95, p99 and max in ms, and the SQL queries of one more run
(``CaptureQueriesContext``; ``--show-sql`` prints them). The load average
(``os.getloadavg()``) is printed before and after.

* ``changes.conflicts.detect`` of ``CHG9100000`` (50 CIs, planned in the busiest weekend
  window): it deletes and re-inserts the change's conflicts and their mirrors on every
  run, as a re-detection does; the conflicts found are counted by kind.
* ``changes.risk.calculate`` of the same change (after detection, so its conflicts count);
  the blast radius and the result are printed. ``changes.risk.evaluate`` (nothing stored)
  and ``cmdb.impact.walk_from`` (the recursive walk alone) too, to split the time.
* The calendar: ``/changes/calendar/?view=month&date=<the month>`` rendered in-process by
  Django's test client signed in as an agent (``force_login``), and ``items_in`` alone
  (queries and Python, no template) for the same range; the week view of the busiest week.
* The gate: ``GET /api/v1/devops/deployments/<number>/gate/`` with the pipeline's token
  through the test client in a loop for ``--gate-seconds``: requests/s, p50/p99, queries;
  ``DPL9000001`` (a scheduled change of 3 CIs) and ``DPL9000002`` (the 50-CI change); and
  ``devops.gate(..., record=False)`` (the decision alone). With ``--http``: gunicorn
  (``--workers`` x ``--threads``) on 127.0.0.1 and ``--concurrency`` client threads with
  keep-alive connections (``api_load.py``'s load loop), for the same number of seconds.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib

BENCH_CHANGE = "CHG9100000"
DEPLOYMENTS = ("DPL9000001", "DPL9000002")
AGENT = "chgbench-agent-001"
PIPELINE = "chgbench-pipeline"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def stats(values) -> str:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return (
        f"p50 {q[49] * 1000:7.1f}  p95 {q[94] * 1000:7.1f}  p99 {q[98] * 1000:7.1f}  "
        f"max {ordered[-1] * 1000:7.1f} ms"
    )


def queries_of(call, show: bool) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    if show:
        for n, q in enumerate(captured.captured_queries, 1):
            print(f"      {n:>2}. {q['time']}s {q['sql'][:300]}")
    return len(captured)


def measure(label, call, runs: int, args, note: str = "") -> None:
    for _ in range(2):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    n = queries_of(call, args.show_sql)
    print(f"{label:<44} {runs:>4} runs  {stats(times)}  {n:>3} queries{note}", flush=True)
    if args.profile:
        profile(call)


def profile(call, top: int = 25) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    print("    cProfile, 5 runs, by cumulative time:")
    for line in lines[start - 1 : start + top + 1]:
        print("    " + line[:180])


def loop(label, call, seconds: float, args) -> None:
    """``call`` again and again for ``seconds``: requests/s and latencies."""
    for _ in range(3):
        call()
    times = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    wall = time.perf_counter() - began
    n = queries_of(call, args.show_sql)
    print(
        f"{label:<44} {len(times):>5} in {wall:4.1f} s = {len(times) / wall:6.1f}/s  "
        f"{stats(times)}  {n:>3} queries",
        flush=True,
    )
    if args.profile:
        profile(call)


def gate_over_http(url, token: str, numbers, args) -> None:
    import api_load

    options = SimpleNamespace(
        workers=args.workers,
        threads=args.threads,
        port=args.port,
        concurrency=args.concurrency,
        requests=10**9,
        creates=0,
        seconds=args.gate_seconds,
        warmup=16,
        seed=12,
    )
    process = api_load.start_gunicorn(options, benchlib.bench_env(url))
    try:
        for number in numbers:
            path = f"/api/v1/devops/deployments/{number}/gate/"
            result = api_load.run_scenario(
                "gate", "127.0.0.1", args.port, token, lambda rng, p=path: ("GET", p, None),
                200, options,
            )  # fmt: skip
            print(
                f"gunicorn {args.workers}x{args.threads}, {args.concurrency} clients: gate "
                f"{number}  {result['requests']:>5} in {result['seconds']:4.1f} s = "
                f"{result['rps']:6.1f}/s  p50 {result['p50']:7.1f}  p90 {result['p90']:7.1f}  "
                f"p99 {result['p99']:7.1f} ms  errors {result['errors']}",
                flush=True,
            )
            for sample in result["samples"]:
                print("    " + sample)
    finally:
        api_load.stop_gunicorn(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--calendar-runs", type=int, default=20)
    parser.add_argument("--gate-seconds", type=float, default=10.0)
    parser.add_argument("--profile", action="store_true", help="cProfile each measurement")
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument(
        "--only",
        default="conflicts,risk,calendar,gate",
        help="comma-separated parts to run: conflicts, risk, calendar, gate",
    )
    parser.add_argument("--http", action="store_true", help="the gate through gunicorn too")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    parts = set(args.only.split(","))
    url = benchlib.database_url(args.database_url)
    benchlib.setup_django(url)

    from django.db import connection
    from django.utils import timezone

    from changes import conflicts
    from changes.models import Change, Conflict
    from changes.workflows import IN_FLIGHT
    from cmdb.models import ConfigurationItem, Relationship

    before = load()
    change = (
        Change.objects.select_related("model", "assigned_to").filter(number=BENCH_CHANGE).first()
    )
    if change is None:
        sys.exit(f"No {BENCH_CHANGE}: run bench/generate_changes.py first.")
    n_cis = ConfigurationItem.objects.count()
    n_rels = Relationship.objects.count()
    n_flight = Change.objects.filter(state__in=IN_FLIGHT, planned_start__gt=timezone.now()).count()
    n_ci = change.configuration_items.count()
    print(f"load average before: {before}")
    print(
        f"CMDB {n_cis:,} CIs, {n_rels:,} relationships; {n_flight:,} in-flight changes planned "
        f"ahead; {connection.vendor} {connection.pg_version // 10000}, {os.cpu_count()} CPUs"
    )
    print(
        f"{BENCH_CHANGE}: {n_ci} CIs, {change.planned_start:%a %Y-%m-%d %H:%M}-"
        f"{change.planned_end:%H:%M} UTC, "
        f"{Change.objects.filter(state__in=IN_FLIGHT, planned_start__lt=change.planned_end, planned_end__gt=change.planned_start).count():,} "
        "in-flight changes overlap its window"
    )  # fmt: skip
    print()

    # Conflict detection and risk ----------------------------------------------------------
    if "conflicts" in parts:
        measure("conflicts.detect (50 CIs)", lambda: conflicts.detect(change), args.runs, args)
    else:
        conflicts.detect(change)  # once: risk counts the change's conflicts
    kinds = Counter(Conflict.objects.filter(change=change).values_list("kind", flat=True))
    mirrored = Conflict.objects.filter(other_change=change).count()
    print(
        "    found: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        + f"; {mirrored} mirror rows on other changes"
    )  # fmt: skip
    if "risk" in parts:
        risk_part(change, args)
    if "calendar" in parts:
        calendar_part(change, args)
    if "gate" in parts:
        gate_part(url, args)
    print()
    print(f"load average after: {load()}")


def risk_part(change, args) -> None:
    from changes import risk
    from cmdb.impact import IMPACT, walk_from

    measure("risk.calculate (50 CIs)", lambda: risk.calculate(change), args.runs, args)
    inputs = risk.gather(change)
    print(
        f"    risk {change.risk} (impact {change.impact}, probability {change.probability}); "
        f"blast radius {inputs.cis_reached:,} CIs, {len(inputs.services):,} business services "
        f"({len(inputs.critical)} critical)"
    )
    measure("risk.evaluate (nothing stored)", lambda: risk.evaluate(change), args.runs, args)
    ci_ids = list(change.configuration_items.values_list("pk", flat=True))
    measure(
        "  of which cmdb.impact.walk_from (50 CIs)",
        lambda: walk_from(ci_ids, IMPACT, services=set()),
        args.runs,
        args,
    )


def calendar_part(change, args) -> None:
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from changes import calendar
    from itsm.accounts.models import User

    print()
    agent = User.objects.get(username=AGENT)
    client = Client()
    client.force_login(agent)
    anchor = (timezone.localdate().replace(day=1) + timedelta(days=32)).replace(day=1)
    first, after = calendar._range("month", anchor)
    start, end = calendar._aware(first), calendar._aware(after)
    shown = calendar.changes_in(start, end, {}).count()
    month_url = f"/changes/calendar/?view=month&date={anchor:%Y-%m-%d}"
    # The bench runs with DEBUG off; without collectstatic's manifest {% static %} fails.
    plain = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain):
        size = [0]

        def month_view(url=month_url):
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            size[0] = len(response.content)

        month_view()
        measure(
            f"calendar month view {anchor:%b %Y}",
            month_view,
            args.calendar_runs,
            args,
            note=f"  ({shown:,} changes in {first:%d %b}-{after - timedelta(days=1):%d %b}, "
            f"page {size[0] / 1024:,.0f} KB)",
        )  # fmt: skip
        measure(
            "  of which calendar.items_in (no template)",
            lambda: calendar.items_in(start, end, {}, agent),
            args.calendar_runs,
            args,
        )
        week = change.planned_start.date()
        week_url = f"/changes/calendar/?view=week&date={week:%Y-%m-%d}"
        w_first, w_after = calendar._range("week", week)
        in_week = calendar.changes_in(
            calendar._aware(w_first), calendar._aware(w_after), {}
        ).count()
        month_view(week_url)
        measure(
            f"calendar week view {w_first:%d %b}",
            lambda: month_view(week_url),
            args.calendar_runs,
            args,
            note=f"  ({in_week:,} changes, page {size[0] / 1024:,.0f} KB)",
        )


def gate_part(url, args) -> None:
    from django.test import Client

    from practices.deployments import devops
    from practices.deployments.accounts import service_account
    from practices.deployments.models import Deployment

    print()
    _account, token = service_account(PIPELINE, days=1)
    pipeline = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for number in DEPLOYMENTS:
        deployment = Deployment.objects.get(number=number)
        path = f"/api/v1/devops/deployments/{number}/gate/"
        answer = pipeline.get(path)
        assert answer.status_code == 200, (answer.status_code, answer.content[:300])
        cis = deployment.change.configuration_items.count()
        print(f"gate {number} (change of {cis} CIs): {answer.json()['decision']}")

        def ask(p=path):
            response = pipeline.get(p)
            assert response.status_code == 200, response.status_code

        loop(f"  GET .../{number}/gate/ (test client)", ask, args.gate_seconds, args)
        loop(
            "  devops.gate(record=False) (no HTTP)",
            lambda d=deployment: devops.gate(d, record=False),
            args.gate_seconds / 2,
            args,
        )
    if args.http:
        gate_over_http(url, token.key, DEPLOYMENTS, args)


if __name__ == "__main__":
    main()
