#!/usr/bin/env python
"""Bounded HTTP load on the incident API, served by gunicorn on 127.0.0.1.

    .venv/bin/python bench/api_load.py \\
        --database-url postgres://postgres@127.0.0.1:5432/itsm_bench

Starts ``gunicorn itsm.wsgi -w 2 --threads 4 -b 127.0.0.1:8099`` against the bench
database (DEBUG off), or targets a running server with ``--url http://127.0.0.1:PORT``
(only 127.0.0.1 / localhost are accepted). Makes sure the agent ``bench_agent`` exists with
a known password, trades it for an API token at ``/api/v1/auth/token/``, then runs each
scenario with ``--concurrency`` threads for at most ``--requests`` requests and at most
``--seconds`` seconds (whichever comes first), after a short warm-up:

* ``list_state_priority``: ``/api/v1/incidents/?state=in_progress&priority=2``
* ``list_group_open``: ``/api/v1/incidents/?assignment_group=<team>&open=true``
* ``deep_page_all`` / ``deep_page_filtered``: the page ``--deep-pages`` deep (reached by
  following ``next``) of the whole list and of the state/priority list, loaded repeatedly
* ``deep_page_far``: the page after ``--far-offset`` rows (default 500,000) of the whole
  list, with the cursor a client would hold there (built from that row, in the format of
  ``itsm.core.pagination``), loaded repeatedly
* ``detail``: ``/api/v1/incidents/<number>/`` of random existing numbers
* ``create``: ``POST /api/v1/incidents/`` (the incidents stay; ``generate_incidents.py
  --truncate`` wipes them)

It prints, per scenario, requests, concurrency, requests/second, p50/p90/p99 latency in ms
and errors, then the SQL queries each request type runs (counted in-process with DRF's
``APIClient`` and ``CaptureQueriesContext`` on the same database; ``BENCH_SHOW_SQL=1``
prints them). The server it started is stopped at the end. HTTP goes through
``http.client`` (the project has no ``requests``). ``bench/explain_queries.py`` explains
the same queries.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

USERNAME = "bench_agent"
PASSWORD = "bench-agent-pass-1"
HOSTS = {"127.0.0.1", "localhost"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: $DATABASE_URL)")
    parser.add_argument("--url", help="target a running server instead of starting gunicorn")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--requests", type=int, default=400, help="max requests per scenario")
    parser.add_argument("--seconds", type=float, default=30.0, help="max seconds per scenario")
    parser.add_argument("--warmup", type=int, default=16, help="unmeasured requests first")
    parser.add_argument("--deep-pages", type=int, default=100, help="pages to follow")
    parser.add_argument(
        "--far-offset",
        type=int,
        default=500_000,
        help="deep_page_far: the page after this many rows of the whole list (0: skip)",
    )
    parser.add_argument("--creates", type=int, default=200, help="max POSTs (create scenario)")
    parser.add_argument("--only", help="comma-separated scenario names to run")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


# HTTP ---------------------------------------------------------------------------------


class Client:
    """One keep-alive connection (one per load thread)."""

    def __init__(self, host: str, port: int, token: str | None = None):
        self.host, self.port, self.token = host, port, token
        self.conn = None

    def request(self, method: str, path: str, body: dict | None = None):
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (http.client.HTTPException, ConnectionError, TimeoutError):
                # A keep-alive connection the server closed: retry once on a fresh one.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def run_scenario(name, host, port, token, make_request, expected, args):
    """``make_request(rng) -> (method, path, body)``; bounded by count and by time."""
    lock = threading.Lock()
    issued = [0]
    latencies, errors, samples = [], [], []
    limit = args.creates if name == "create" else args.requests
    concurrency = args.concurrency

    def worker(index: int, measured: bool, budget: int, deadline: float):
        rng = random.Random(args.seed * 1000 + index + (0 if measured else 500))
        client = Client(host, port, token)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if issued[0] >= budget:
                        return
                    issued[0] += 1
                method, path, body = make_request(rng)
                start = time.perf_counter()
                try:
                    status, data = client.request(method, path, body)
                except Exception as exc:  # counted, not raised: the run goes on
                    status, data = None, repr(exc).encode()
                elapsed = (time.perf_counter() - start) * 1000
                if not measured:
                    continue
                with lock:
                    latencies.append(elapsed)
                    if status != expected:
                        errors.append(status)
                        if len(samples) < 3:
                            samples.append(f"{status}: {data[:200]!r}")
        finally:
            client.close()

    def run(measured: bool, budget: int, seconds: float):
        issued[0] = 0
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=worker, args=(i, measured, budget, deadline))
            for i in range(concurrency)
        ]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.monotonic() - start

    if args.warmup and name != "create":
        run(False, args.warmup, min(args.seconds, 10))
    wall = run(True, limit, args.seconds)
    n = len(latencies)
    qs = statistics.quantiles(latencies, n=100, method="inclusive") if n >= 2 else [0] * 99
    return {
        "scenario": name,
        "requests": n,
        "concurrency": concurrency,
        "rps": n / wall if wall else 0.0,
        "p50": qs[49],
        "p90": qs[89],
        "p99": qs[98],
        "errors": len(errors),
        "seconds": wall,
        "samples": samples,
    }


# Server -------------------------------------------------------------------------------


def port_open(host: str, port: int) -> bool:
    try:
        conn = http.client.HTTPConnection(host, port, timeout=2)
        conn.request("GET", "/api/v1/")
        conn.getresponse().read()
        conn.close()
        return True
    except (OSError, http.client.HTTPException):
        return False


def start_gunicorn(args, env) -> subprocess.Popen:
    if port_open("127.0.0.1", args.port):
        sys.exit(f"Something already listens on 127.0.0.1:{args.port}; use --port or --url.")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "itsm.wsgi",
        "-w",
        str(args.workers),
        "--threads",
        str(args.threads),
        "-b",
        f"127.0.0.1:{args.port}",
        "--log-level",
        "warning",
    ]
    print("starting: " + " ".join(command), flush=True)
    process = subprocess.Popen(command, cwd=benchlib.REPO, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}")
        if port_open("127.0.0.1", args.port):
            return process
        time.sleep(0.5)
    stop_gunicorn(process)
    sys.exit("gunicorn did not answer within 60 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # the arbiter stops its own workers
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    print(f"gunicorn (pid {process.pid}) stopped", flush=True)


# Fixtures from the database -----------------------------------------------------------


def ensure_agent():
    from itsm.accounts.models import Role, Team, User

    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        user = User.objects.create_user(
            USERNAME, email=f"{USERNAME}@bench.invalid", password=PASSWORD, role=Role.AGENT
        )
        print(f"created agent {USERNAME} (password {PASSWORD})")
    elif not user.check_password(PASSWORD) or not user.is_agent:
        user.set_password(PASSWORD)
        user.role = Role.AGENT
        user.is_active = True
        user.save()
    # A member of every team, so that it may be assigned anything it creates.
    user.teams.add(*Team.objects.filter(active=True))
    return user


def scenario_inputs():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT assignment_group_id, count(*) FROM incidents_incident"
            " WHERE state IN ('new', 'in_progress', 'on_hold') AND assignment_group_id IS NOT NULL"
            " GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        )
        row = cursor.fetchone()
        if row is None:
            sys.exit("No open incident with a team: load data with generate_incidents.py first.")
        team_id, team_open = row
        cursor.execute("SELECT number FROM incidents_incident TABLESAMPLE SYSTEM (1) LIMIT 5000")
        numbers = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'incidents_incident'"
        )
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT s.id, s.owner_team_id FROM catalogue_service s"
            " WHERE s.owner_team_id IS NOT NULL ORDER BY s.id LIMIT 20"
        )
        services = cursor.fetchall()
        cursor.execute(
            "SELECT username FROM accounts_user WHERE role = 'end_user' AND is_active"
            " ORDER BY id LIMIT 500"
        )
        callers = [r[0] for r in cursor.fetchall()]
        cursor.execute("SELECT id FROM incidents_category WHERE parent_id IS NULL AND active")
        categories = [r[0] for r in cursor.fetchall()]
    return {
        "team_id": team_id,
        "team_open": team_open,
        "numbers": numbers,
        "total": total,
        "services": services,
        "callers": callers or [USERNAME],
        "categories": categories,
    }


def create_body(rng, inputs):
    body = {
        "title": f"Bench: {rng.choice(['VPN drops', 'Printer jam', 'Slow CRM', 'No e-mail'])}",
        "description": "Created by bench/api_load.py.",
        "caller": rng.choice(inputs["callers"]),
        "impact": rng.choice([1, 2, 3]),
        "urgency": rng.choice([1, 2, 3]),
    }
    if inputs["services"]:
        service_id, team_id = rng.choice(inputs["services"])
        body["service"] = service_id
        body["assignment_group"] = team_id
    if inputs["categories"]:
        body["category"] = rng.choice(inputs["categories"])
    return body


def row_at(offset: int, where: str = "", params: tuple = ()):
    """(created_at, id) of the ``offset``-th row of a list in the default order (newest
    first). ``where`` is a fixed SQL condition of this script (never user input)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT created_at, id FROM incidents_incident {where}"
            " ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [*params, offset - 1],
        )
        return cursor.fetchone()


def encode_cursor(row) -> str:
    """A cursor as ``itsm.core.pagination`` encodes it: base64url of the JSON of the last
    row's ordering values (``created_at``, ``id``), without padding."""
    import base64

    raw = json.dumps([row[0].isoformat(), row[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_at(offset: int, where: str = "", params: tuple = ()) -> str | None:
    """The cursor a client holds after paging ``offset`` rows into the list."""
    row = row_at(offset, where, params)
    return encode_cursor(row) if row else None


def follow_next(client: Client, path: str, pages: int):
    """Walk ``pages`` pages along ``next``; the cursor path of the last one and timings."""
    timings = []
    for _ in range(pages):
        start = time.perf_counter()
        status, data = client.request("GET", path)
        timings.append((time.perf_counter() - start) * 1000)
        if status != 200:
            sys.exit(f"GET {path} answered {status}: {data[:300]!r}")
        following = json.loads(data)["next"]
        if not following:
            break
        path = path_of(following)
    return path, timings


# In-process query counts and EXPLAIN --------------------------------------------------

MAIN_QUERY = re.compile(r'FROM "incidents_incident"')


def query_counts(token: str, requests: list[tuple[str, str, str, dict | None]]):
    """[(name, query count, main incident SELECT or None, captured queries)] of each
    request, made in-process with DRF's APIClient."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    results = []
    for name, method, path, body in requests:
        # Twice: the first may warm caches (content types); the second is the steady state.
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                if method == "GET":
                    response = client.get(path)
                else:
                    response = client.post(path, body, format="json")
        if response.status_code >= 400:
            print(f"  {name}: HTTP {response.status_code} {response.content[:200]!r}")
        main = None
        for query in captured.captured_queries:
            sql = query["sql"]
            if sql.startswith("SELECT") and MAIN_QUERY.search(sql) and "LIMIT" in sql:
                main = sql
                break
        results.append((name, len(captured.captured_queries), main, captured.captured_queries))
    return results


# Main ---------------------------------------------------------------------------------


def main():
    args = parse_args()
    url = benchlib.database_url(args.database_url)
    benchlib.setup_django(url)
    env = benchlib.bench_env(url)

    if args.url:
        parts = urlsplit(args.url)
        if parts.hostname not in HOSTS:
            sys.exit("--url must point at 127.0.0.1 or localhost.")
        host, port = parts.hostname, parts.port or 80
    else:
        host, port = "127.0.0.1", args.port

    user = ensure_agent()
    inputs = scenario_inputs()
    print(
        f"database: ~{inputs['total']:,} incidents; team {inputs['team_id']} has "
        f"{inputs['team_open']:,} open; {len(inputs['numbers'])} sampled numbers",
        flush=True,
    )

    process = None if args.url else start_gunicorn(args, env)
    try:
        status, data = Client(host, port).request(
            "POST", "/api/v1/auth/token/", {"username": USERNAME, "password": PASSWORD}
        )
        if status == 200:
            token = json.loads(data)["token"]
        else:  # e.g. throttled: take the token straight from the database
            from itsm.api import tokens

            print(f"token endpoint answered {status}; using the database")
            token = tokens.issue(user, name=f"bench {time.time()}", scopes=["write"], days=1)[1]

        base = "/api/v1/incidents/"
        filtered = base + "?" + urlencode({"state": "in_progress", "priority": 2})
        by_group = base + "?" + urlencode({"assignment_group": inputs["team_id"], "open": "true"})
        walker = Client(host, port, token)
        deep_all, walk_all = follow_next(walker, base, args.deep_pages)
        deep_filtered, walk_filtered = follow_next(walker, filtered, args.deep_pages)
        for label, walk in (("whole list", walk_all), ("state/priority list", walk_filtered)):
            print(
                f"followed next {len(walk)} pages of the {label}: "
                f"median {statistics.median(walk):.1f} ms, max {max(walk):.1f} ms per page",
                flush=True,
            )

        deep_far = None
        if args.far_offset > 0:
            cursor = cursor_at(args.far_offset)
            if cursor:
                deep_far = f"{base}?cursor={cursor}"
                status, data = walker.request("GET", deep_far)
                if status != 200:
                    print(f"far cursor refused ({status}: {data[:200]!r}); skipping deep_page_far")
                    deep_far = None
        walker.close()

        numbers = inputs["numbers"]

        def fixed(path):
            return lambda rng: ("GET", path, None)

        scenarios = [
            ("list_state_priority", fixed(filtered), 200),
            ("list_group_open", fixed(by_group), 200),
            ("deep_page_all", fixed(deep_all), 200),
            ("deep_page_filtered", fixed(deep_filtered), 200),
            *([("deep_page_far", fixed(deep_far), 200)] if deep_far else []),
            ("detail", lambda rng: ("GET", f"{base}{rng.choice(numbers)}/", None), 200),
            ("create", lambda rng: ("POST", base, create_body(rng, inputs)), 201),
        ]
        if args.only:
            wanted = set(args.only.split(","))
            scenarios = [s for s in scenarios if s[0] in wanted]

        results = []
        for name, make_request, expected in scenarios:
            print(f"running {name}…", flush=True)
            results.append(run_scenario(name, host, port, token, make_request, expected, args))
    finally:
        if process is not None:
            stop_gunicorn(process)

    print()
    header = f"{'scenario':<22}{'requests':>9}{'conc':>6}{'req/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'errors':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['scenario']:<22}{r['requests']:>9}{r['concurrency']:>6}{r['rps']:>8.1f}"
            f"{r['p50']:>9.1f}{r['p90']:>9.1f}{r['p99']:>9.1f}{r['errors']:>8}"
        )
        for sample in r["samples"]:
            print(f"    error sample: {sample}")

    print("\nSQL queries per request (in-process, DRF APIClient, same database):")
    rng = random.Random(args.seed)
    counted = query_counts(
        token,
        [
            ("list_state_priority", "GET", filtered, None),
            ("list_group_open", "GET", by_group, None),
            ("deep_page_all", "GET", deep_all, None),
            ("deep_page_filtered", "GET", deep_filtered, None),
            *([("deep_page_far", "GET", deep_far, None)] if deep_far else []),
            ("detail", "GET", f"{base}{rng.choice(numbers)}/", None),
            ("create", "POST", base, create_body(rng, inputs)),
        ],
    )
    for name, count, _, queries in counted:
        print(f"  {name:<22}{count:>3} queries")
        if os.environ.get("BENCH_SHOW_SQL"):
            for q in queries:
                print(f"      {q['sql'][:300]}")

    print("\nEXPLAIN (ANALYZE, BUFFERS) of these queries: bench/explain_queries.py")


if __name__ == "__main__":
    main()
