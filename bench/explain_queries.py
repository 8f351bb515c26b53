#!/usr/bin/env python
"""EXPLAIN (ANALYZE, BUFFERS) of the SQL the incident API runs, on the bench database.

    .venv/bin/python bench/explain_queries.py [--full] [--what-if]

The SQL is what the app really sends: each request is made in-process with DRF's
``APIClient`` under ``CaptureQueriesContext`` and the main incident ``SELECT`` is explained
as captured. Lists: ``state=in_progress&priority=2``; ``assignment_group=<team>&open=true``
for the team with the most open incidents and for the one with the fewest (first page and
ten pages in); the page
``--deep-pages`` pages deep of the whole list and of the state/priority list; the page after
``--far-offset`` rows of the whole list; one detail.

For each it prints planning and execution time, the scan on ``incidents_incident`` (index,
index condition, filter, rows removed by the filter), whether a sort or a DISTINCT runs
over the matching rows, and shared buffers. ``--full`` prints the whole text plans.

``--what-if`` also explains the changes proposed in ``bench/README.md`` without touching
the application or keeping anything in the database: the same lists built with fewer
joins, no DISTINCT and a keyset condition bounded on its first column, and a partial index
for open incidents by team, created in a transaction that is rolled back.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
from api_load import cursor_at, ensure_agent, query_counts, row_at, scenario_inputs

PAGE = 25
PROPOSED_INDEX = (
    "CREATE INDEX inc_group_open ON incidents_incident"
    " (assignment_group_id, created_at DESC, id DESC)"
    " WHERE state IN ('new', 'in_progress', 'on_hold')"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: $DATABASE_URL)")
    parser.add_argument("--deep-pages", type=int, default=100)
    parser.add_argument("--far-offset", type=int, default=500_000)
    parser.add_argument("--full", action="store_true", help="print the whole text plans")
    parser.add_argument("--what-if", action="store_true", help="explain the proposed fixes too")
    return parser.parse_args()


def explain(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        text = "\n".join(r[0] for r in cursor.fetchall())
    return plan[0], text


def nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def summary(name: str, plan: dict) -> list[str]:
    root = plan["Plan"]
    lines = [
        f"{name}: planning {plan['Planning Time']:.1f} ms, execution "
        f"{plan['Execution Time']:.1f} ms, buffers hit {root.get('Shared Hit Blocks', 0)}"
        f" read {root.get('Shared Read Blocks', 0)}"
    ]
    kinds = {n["Node Type"] for n in nodes(root)}
    extra = [k for k in ("Sort", "Unique", "Incremental Sort", "Gather Merge") if k in kinds]
    if extra:
        lines.append(f"    plan has: {', '.join(extra)}")
    for n in nodes(root):
        if (
            n.get("Relation Name") == "incidents_incident"
            and n.get("Alias") == "incidents_incident"
        ):
            scan = n["Node Type"] + (f" using {n['Index Name']}" if n.get("Index Name") else "")
            lines.append(f"    {scan}: {n.get('Actual Rows')} rows x {n.get('Actual Loops')} loops")
            for key in ("Index Cond", "Recheck Cond", "Filter"):
                if n.get(key):
                    lines.append(f"      {key}: {n[key][:240]}")
            if n.get("Rows Removed by Filter"):
                lines.append(f"      Rows Removed by Filter: {n['Rows Removed by Filter']:,}")
        if n.get("Node Type") == "Bitmap Index Scan" and n.get("Index Name", "").startswith("inc"):
            lines.append(
                f"    Bitmap Index Scan using {n['Index Name']}: {n.get('Actual Rows')} rows"
            )
    return lines


def report(name, sql, params, full):
    plan, text = explain(sql, params)
    print("\n".join(summary(name, plan)))
    if full:
        print(f"\n{sql}\n{text}\n")


def what_if(inputs, quiet_team, deep_rows, full):
    """The same lists as the proposals in README.md would run them."""
    from django.db import connection, transaction
    from django.db.models import Q

    from incidents.models import Incident
    from incidents.workflows import IncidentState

    open_states = sorted(IncidentState.OPEN)

    def build(filters: Q, after=None):
        qs = Incident.objects.select_related("caller", "opened_by", "assigned_to", "parent")
        qs = qs.filter(filters).order_by("-created_at", "-id")
        if after is not None:
            created, pk = after
            # Bounded on the first ordering column, so the OR is no longer a pure filter.
            qs = qs.filter(
                Q(created_at__lte=created)
                & (Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
            )
        return qs[: PAGE + 1].query.sql_with_params()

    state_priority = Q(state__in=["in_progress"], priority__in=[2])
    cases = [
        ("what-if list_state_priority", build(state_priority)),
        ("what-if deep_page_all", build(Q(), deep_rows["all"])),
        ("what-if deep_page_filtered", build(state_priority, deep_rows["filtered"])),
        ("what-if deep_page_far", build(Q(), deep_rows["far"])),
    ]
    print(
        "\n== what-if: 4 joins (caller, opened_by, assigned_to, parent), no DISTINCT, bounded keyset"
    )
    for name, (sql, params) in cases:
        report(name, sql, params, full)

    groups = [
        ("list_group_open (busiest team)", inputs["team_id"], None),
        ("list_group_open (quietest team)", quiet_team, None),
        ("list_group_open (quietest team, deep)", quiet_team, deep_rows["quiet"]),
    ]
    print(f"\n== what-if: {PROPOSED_INDEX} (rolled back)")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(PROPOSED_INDEX)
            cursor.execute("ANALYZE incidents_incident")
        for name, team, after in groups:
            sql, params = build(Q(assignment_group__in=[team], state__in=open_states), after)
            report(f"what-if {name}", sql, params, full)
        transaction.set_rollback(True)


def main():
    args = parse_args()
    url = benchlib.database_url(args.database_url)
    benchlib.setup_django(url)

    from django.db import connection

    from itsm.api import tokens

    user = ensure_agent()
    token = tokens.issue(user, name=f"bench {time.time()}", scopes=["read"], days=1)[1]
    inputs = scenario_inputs()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT assignment_group_id,"
            " count(*) FILTER (WHERE state IN ('new', 'in_progress', 'on_hold')) AS open,"
            " count(*) FROM incidents_incident WHERE assignment_group_id IS NOT NULL"
            " GROUP BY 1 ORDER BY 2 ASC, 3 DESC LIMIT 1"
        )
        quiet_team, quiet_open, quiet_total = cursor.fetchone()
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(
        f"PostgreSQL {version}; ~{inputs['total']:,} incidents; busiest team "
        f"{inputs['team_id']} ({inputs['team_open']:,} open); quietest team {quiet_team} "
        f"({quiet_open:,} open of {quiet_total:,})\n"
    )

    base = "/api/v1/incidents/"
    filtered_where = ("WHERE state = %s AND priority = %s", ("in_progress", 2))
    depth = args.deep_pages * PAGE
    quiet_where = (
        "WHERE assignment_group_id = %s AND state IN ('new', 'in_progress', 'on_hold')",
        (quiet_team,),
    )
    quiet_depth = max(1, min(10 * PAGE, quiet_open - PAGE - 1))
    deep_rows = {
        "all": row_at(depth),
        "filtered": row_at(depth, *filtered_where),
        "far": row_at(args.far_offset),
        "quiet": row_at(quiet_depth, *quiet_where),
    }
    requests = [
        ("list_state_priority", f"{base}?state=in_progress&priority=2"),
        (
            "list_group_open (busiest team)",
            f"{base}?assignment_group={inputs['team_id']}&open=true",
        ),
        ("list_group_open (quietest team)", f"{base}?assignment_group={quiet_team}&open=true"),
        (
            f"list_group_open (quietest team, {quiet_depth} rows in)",
            f"{base}?assignment_group={quiet_team}&open=true&cursor={cursor_at(quiet_depth, *quiet_where)}",
        ),
        (f"deep_page_all ({depth:,} rows in)", f"{base}?cursor={cursor_at(depth)}"),
        (
            f"deep_page_filtered ({depth:,} rows in)",
            f"{base}?state=in_progress&priority=2&cursor={cursor_at(depth, *filtered_where)}",
        ),
        (
            f"deep_page_far ({args.far_offset:,} rows in)",
            f"{base}?cursor={cursor_at(args.far_offset)}",
        ),
        ("detail", f"{base}{inputs['numbers'][0]}/"),
    ]
    captured = query_counts(token, [(name, "GET", path, None) for name, path in requests])
    print("== the application's queries, as captured")
    for name, count, sql, _ in captured:
        if sql is None:
            print(f"{name}: no incident SELECT captured ({count} queries)")
            continue
        report(f"{name} [{count} queries/request]", sql, None, args.full)

    if args.what_if:
        what_if(inputs, quiet_team, deep_rows, args.full)


if __name__ == "__main__":
    main()
