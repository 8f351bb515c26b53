"""CMDB at size: a 100,000-CI import and its re-import, then impact analysis over a graph
of 100,000 CIs and 500,000 relationships.

Run by hand against a dedicated PostgreSQL database (created if missing; SQLite refused):

    .venv/bin/python bench/cmdb_graph.py               # import, relate, measure
    .venv/bin/python bench/cmdb_graph.py --no-load     # measure impact again

Not collected by pytest, never gates CI.

1. ``migrate``; empties the CMDB (CIs, keys, relationships, their journal entries).
2. Import: 100,000 CI rows through ``cmdb.imports.run`` (the code the API and the CSV
   screen call), one data source, in the import's batches; timed. Then the same rows
   again (the re-import: every row matched, nothing created); timed. Then 5% of the rows
   changed (a new IP address): timed.
3. Relationships: 500,000 in a layered estate, written with ``COPY``: 1,000 business
   services depend on 5-15 of 9,000 applications; applications depend on databases and
   run on virtual machines, and depend on other applications (random: cycles); databases
   run on VMs; 50,000 VMs run on 20,000 hosts, depend on 5,000 storage systems and
   connect to access switches; access switches connect to distribution switches, those to
   20 core switches that connect to each other in pairs (cycles).
4. Impact for ``--samples`` random CIs: ``cmdb.impact.walk`` (the recursive query and
   the breadth-first pass) whole depth, depth 3, and ``dependencies``; then ``analyse``
   as the API calls it (1,000 CIs listed and loaded; count and services over all);
   p50, p90, p99 and max, and how many CIs were reached. Per class, and the core
   switches apart (the worst case). Then ``/api/v1/cis/{id}/impact/`` through Django's
   test client for 200 CIs.
"""

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_cmdb_bench"

LAYOUT = {
    "business_service": 1_000,
    "application": 9_000,
    "database": 5_000,
    "virtual_machine": 50_000,
    "server": 20_000,
    "storage": 5_000,
    "network_device": 10_000,
}
CORE, DISTRIBUTION = 20, 480


def ensure_database(url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def rows_for(layout) -> list[dict]:
    rows = []
    for class_key, count in layout.items():
        for i in range(count):
            name = f"{class_key[:3]}-{i:06}"
            attributes = {}
            if class_key in ("virtual_machine", "server", "network_device"):
                attributes = {
                    "hostname": name,
                    "domain": "corp.example",
                    "ip_address": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
                }
                if class_key == "virtual_machine":
                    attributes["cloud_id"] = f"i-{i:012x}"
            if class_key in ("server", "network_device", "storage"):
                attributes["serial_number"] = f"SN-{class_key[:3]}-{i:07}"
            if class_key == "database":
                attributes = {"engine": "postgresql", "instance": f"db{i}"}
            rows.append(
                {
                    "class": class_key,
                    "name": name,
                    "status": "live",
                    "environment": "production",
                    "attributes": attributes,
                }
            )
    return rows


def timed_import(source, rows, label):
    from cmdb import imports

    started = time.perf_counter()
    run = imports.run(source, rows, [], None)
    seconds = time.perf_counter() - started
    print(
        f"{label}: {len(rows):,} rows in {seconds:.1f} s = {len(rows) / seconds:,.0f} rows/s "
        f"(created {run.created:,}, updated {run.updated:,}, unchanged {run.unchanged:,}, "
        f"errors {run.failed:,})"
    )
    return run


def relationships(ids: dict[str, list[int]], rng: random.Random, total: int):
    """(source, type key, target) triples of a layered estate, ``total`` of them."""
    out = set()

    def add(a, key, b):
        if a != b:
            out.add((a, key, b))

    apps, dbs, vms = ids["application"], ids["database"], ids["virtual_machine"]
    hosts, storage, network = ids["server"], ids["storage"], ids["network_device"]
    core, dist, access = (
        network[:CORE],
        network[CORE : CORE + DISTRIBUTION],
        network[CORE + DISTRIBUTION :],
    )
    for service in ids["business_service"]:
        for app in rng.sample(apps, rng.randint(5, 15)):
            add(service, "depends_on", app)
    for app in apps:
        for db in rng.sample(dbs, 2):
            add(app, "depends_on", db)
        for vm in rng.sample(vms, 3):
            add(app, "runs_on", vm)
    for db in dbs:
        for vm in rng.sample(vms, 2):
            add(db, "runs_on", vm)
    for vm in vms:
        add(vm, "runs_on", rng.choice(hosts))
        for s in rng.sample(storage, 2):
            add(vm, "depends_on", s)
        for sw in rng.sample(access, 3):
            add(vm, "connects_to", sw)
    for host in hosts:
        for s in rng.sample(storage, 2):
            add(host, "depends_on", s)
        for sw in rng.sample(access, 3):
            add(host, "connects_to", sw)
    for s in storage:
        add(s, "connects_to", rng.choice(access))
    for sw in access:
        for d in rng.sample(dist, 2):
            add(sw, "connects_to", d)
    for d in dist:
        for c in rng.sample(core, 2):
            add(d, "connects_to", c)
    for i in range(0, CORE, 2):
        add(core[i], "connects_to", core[i + 1])
        add(core[i + 1], "connects_to", core[i])
    while len(out) < total:  # integrations between applications: cycles among them
        add(rng.choice(apps), "depends_on", rng.choice(apps))
    return sorted(out)[:total] if len(out) > total else sorted(out)


def load_relationships(triples) -> None:
    from django.db import connection

    from cmdb.models import RelationshipType

    types = dict(RelationshipType.objects.values_list("key", "pk"))
    buffer = io.StringIO()
    for source, key, target in triples:
        buffer.write(f"{source}\t{types[key]}\t{target}\t2026-11-26 00:00:00+00\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY cmdb_relationship (source_id, type_id, target_id, created_at) FROM STDIN",
            buffer,
        )
        cursor.execute("ANALYZE cmdb_relationship")
        cursor.execute("ANALYZE cmdb_configurationitem")


def percentiles(values) -> str:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return (
        f"p50 {q[49] * 1000:7.1f} ms  p90 {q[89] * 1000:7.1f} ms  p99 {q[98] * 1000:7.1f} ms  "
        f"max {ordered[-1] * 1000:7.1f} ms"
    )


def measure(label, cis, direction, depth, limit=None) -> None:
    """``walk`` alone (the recursive query and the breadth-first pass) or, with ``limit``,
    ``analyse`` as the API calls it (the walk, then the CIs it lists loaded)."""
    from cmdb.impact import analyse, walk

    times, sizes = [], []
    for ci in cis:
        started = time.perf_counter()
        if limit is None:
            size = len(walk(ci.pk, direction, depth))
        else:
            analysis = analyse(ci, direction, depth, limit=limit)
            list(analysis.rows())
            size = analysis.total
        times.append(time.perf_counter() - started)
        sizes.append(size)
    sizes.sort()
    print(
        f"{label:<40} {percentiles(times)}  reached: median {sizes[len(sizes) // 2]:,}, "
        f"max {sizes[-1]:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--relationships", type=int, default=500_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    url = benchlib.database_url(args.database_url or DEFAULT_DATABASE_URL)
    ensure_database(url)
    benchlib.setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from cmdb.impact import DEPENDENCIES, IMPACT
    from cmdb.models import ConfigurationItem, DataSource
    from itsm.accounts.models import User

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    if not args.no_load:
        with connection.cursor() as cursor:
            benchlib.allow_resetting(cursor)
            cursor.execute(
                "TRUNCATE cmdb_relationship, cmdb_cikey, cmdb_importrun, "
                "cmdb_configurationitem RESTART IDENTITY CASCADE"
            )
            cursor.execute(
                "DELETE FROM core_journalentry WHERE content_type_id = "
                "(SELECT id FROM django_content_type WHERE app_label = 'cmdb' "
                "AND model = 'configurationitem')"
            )
        source, _ = DataSource.objects.get_or_create(key="bench", defaults={"name": "Bench"})
        rows = rows_for(LAYOUT)
        print(f"CMDB import ({connection.vendor}), batch size of the import: 1,000 rows")
        timed_import(source, rows, "import (new)      ")
        timed_import(source, rows, "re-import (same)  ")
        changed = [dict(r, attributes=dict(r["attributes"])) for r in rows]
        for row in changed[::20]:
            if "ip_address" in row["attributes"]:
                row["attributes"]["ip_address"] = "192.168.0.1"
            else:
                row["status"] = "maintenance"
        timed_import(source, changed, "re-import (5% changed)")
        ids: dict[str, list[int]] = {}
        for pk, key in ConfigurationItem.objects.values_list("pk", "ci_class__key").order_by("pk"):
            ids.setdefault(key, []).append(pk)
        started = time.perf_counter()
        triples = relationships(ids, rng, args.relationships)
        load_relationships(triples)
        print(
            f"relationships: {len(triples):,} written with COPY in {time.perf_counter() - started:.1f} s"
        )
    total_cis = ConfigurationItem.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cmdb_relationship")
        total_rels = cursor.fetchone()[0]
    print(f"\nImpact analysis over {total_cis:,} CIs and {total_rels:,} relationships")
    all_ids = list(ConfigurationItem.objects.values_list("pk", flat=True))
    sample_ids = rng.sample(all_ids, min(args.samples, len(all_ids)))
    sample = list(ConfigurationItem.objects.filter(pk__in=sample_ids).select_related("ci_class"))
    rng.shuffle(sample)
    measure("walk: impact, whole depth", sample, IMPACT, None)
    measure("walk: impact, depth 3", sample, IMPACT, 3)
    measure("walk: dependencies, whole depth", sample, DEPENDENCIES, None)
    measure("analyse (1,000 listed): impact", sample, IMPACT, None, limit=1000)
    measure("analyse (1,000 listed): dependencies", sample, DEPENDENCIES, None, limit=1000)
    by_class = {}
    for ci in sample:
        by_class.setdefault(ci.ci_class.key, []).append(ci)
    for key in sorted(by_class):
        if len(by_class[key]) >= 5:
            measure(f"  walk: impact of a {key}", by_class[key], IMPACT, None)
    core = list(
        ConfigurationItem.objects.filter(ci_class__key="network_device")
        .select_related("ci_class")
        .order_by("pk")[:CORE]
    )
    measure("walk: impact of a core switch (worst)", core, IMPACT, None)
    measure("walk: impact of a core switch, depth 3", core, IMPACT, 3)

    agent, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": "agent"})
    client = Client()
    client.force_login(agent)
    times = []
    for ci in sample[:200]:
        started = time.perf_counter()
        response = client.get(f"/api/v1/cis/{ci.pk}/impact/")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    print(f"{'API /cis/{id}/impact/ (200 CIs)':<40} {percentiles(times)}")


if __name__ == "__main__":
    main()
