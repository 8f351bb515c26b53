#!/usr/bin/env python
"""Load N realistic incidents into a PostgreSQL database, fast, for benchmarks.

    createdb -h 127.0.0.1 -U postgres itsm_bench
    .venv/bin/python bench/generate_incidents.py --count 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/itsm_bench --truncate

What it does, in order:

1. ``manage.py migrate`` (through ``call_command``): an empty database is ready after it.
2. Reference data through the ORM (``bulk_create``, idempotent): 20 teams, 200 agents who
   are team members, 5,000 end users (the callers), 50 services owned by teams, 10
   categories with subcategories.
3. One transaction: optionally wipe the incidents, drop the plain indexes (not the primary
   key or unique constraints) and the foreign keys of the incident and journal tables
   (when the table holds fewer rows than are being loaded), stream the rows with
   ``COPY incidents_incident (...) FROM STDIN`` in chunks generated on the fly (never a
   list of all rows in memory), write one ``created`` journal entry per incident with one
   ``INSERT ... SELECT`` (``--no-journal`` skips it), rebuild the dropped indexes and
   re-add the foreign keys from their saved definitions (re-adding validates every row),
   and move the number sequence ``itsm_number_inc`` past the highest number. Any failure
   rolls everything back, indexes and keys included.
4. ``VACUUM (ANALYZE)`` of the loaded tables (what autovacuum would do to a table in
   steady state: statistics, visibility map for index-only scans), then ``ANALYZE`` of the
   whole database (the fresh users, teams and services need statistics too).

``--truncate`` empties the incidents (``TRUNCATE ... RESTART IDENTITY CASCADE``, so tables
that reference incidents are emptied too) with their journal entries, attachments,
notifications and links, and restarts the numbers at INC0001001.

Distributions: arrivals follow office hours and weekdays over two years with a slight
growth trend; numbers grow with ``created_at`` like real numbering; impact and urgency give
the priority through the configured matrix; resolution times are log-normal by priority;
roughly 85% of incidents end closed or cancelled, the rest are new, in progress, on hold or
resolved (resolved only within the auto-close window), and how many stay open depends on the
team (one team closes almost everything: many incidents, hardly any open); ``first_response_at``,
``resolved_at`` and ``closed_at`` are consistent with the state; assignees are members of
the assignment group; callers and services are skewed (a few call a lot).
"""

import argparse
import io
import math
import random
import sys
import time
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib

CHUNK_ROWS = 50_000
MAX_NUMBER = 9_999_999  # INC + seven digits

TEAMS = [
    "Service Desk",
    "Desktop Support",
    "Network Operations",
    "Database Administration",
    "Windows Servers",
    "Linux Servers",
    "Storage and Backup",
    "Identity and Access",
    "Messaging",
    "Collaboration Tools",
    "ERP Support",
    "CRM Support",
    "HR Applications",
    "Web Platforms",
    "Cloud Infrastructure",
    "Security Operations",
    "Telephony",
    "Printing Services",
    "Field Services",
    "Mobile Devices",
]
SERVICE_STEMS = [
    "E-mail",
    "VPN",
    "Wi-Fi",
    "Laptop",
    "Desktop",
    "Printing",
    "Payroll",
    "Expenses",
    "ERP Finance",
    "ERP Purchasing",
    "CRM",
    "Intranet",
    "Public website",
    "File shares",
    "Backup",
    "Active Directory",
    "Single sign-on",
    "Chat",
    "Video conferencing",
    "Telephony",
    "Mobile phones",
    "HR portal",
    "Recruiting",
    "Learning platform",
    "Data warehouse",
    "Reporting",
    "Document management",
    "Ticketing",
    "Source control",
    "CI pipelines",
    "Kubernetes platform",
    "Object storage",
    "Databases",
    "Web shop",
    "Payments",
    "Warehouse scanners",
    "Badge access",
    "CCTV",
    "Meeting rooms",
    "Time tracking",
    "Contract management",
    "Legal archive",
    "Customer portal",
    "Partner API",
    "Monitoring",
    "Antivirus",
    "Patch management",
    "Software distribution",
    "Password reset",
    "Remote desktop",
]
CATEGORIES = {
    "Hardware": ["Laptop", "Desktop", "Monitor", "Peripheral", "Printer"],
    "Software": ["Installation", "Licence", "Crash", "Update", "Configuration"],
    "Network": ["Wi-Fi", "VPN", "LAN", "DNS", "Firewall"],
    "Access": ["Password", "Permissions", "Account locked", "New account"],
    "E-mail": ["Delivery", "Mailbox full", "Calendar", "Spam"],
    "Database": ["Performance", "Connectivity", "Backup", "Replication"],
    "Application": ["Error message", "Slow", "Unavailable", "Wrong data"],
    "Security": ["Phishing", "Malware", "Lost device", "Suspicious login"],
    "Telephony": ["Desk phone", "Mobile", "Voicemail"],
    "Facilities": ["Badge", "Meeting room", "Power"],
}
SYMPTOMS = [
    "cannot log in",
    "very slow since this morning",
    "error 500 when saving",
    "not reachable",
    "keeps disconnecting",
    "page does not load",
    "wrong totals in report",
    "timeout on submit",
    "password expired",
    "account locked",
    "missing permissions",
    "cannot print",
    "crashes on start",
    "update failed",
    "sync not working",
    "certificate warning",
    "data missing since yesterday",
    "duplicate entries",
    "cannot attach files",
    "notifications not received",
    "blank screen",
    "licence expired",
    "disk full",
    "no sound in calls",
    "camera not detected",
    "battery drains fast",
    "cannot connect from home",
    "export to Excel fails",
    "search returns nothing",
    "login loop after SSO",
]
DESCRIPTIONS = [
    "Several colleagues in my team have the same problem.",
    "It worked fine yesterday afternoon.",
    "I already restarted my computer, it did not help.",
    "This blocks our month-end closing, please hurry.",
    "Happens intermittently, about every hour.",
    "Screenshot sent by e-mail to the service desk.",
    "Only on the office network, at home it works.",
    "Started after the last update was installed.",
]
RESOLUTION_NOTES = [
    "Cleared the cache and restarted the service.",
    "Reset the password and unlocked the account.",
    "Applied the vendor hotfix.",
    "Replaced the faulty device.",
    "Granted the missing role after manager approval.",
    "Explained the correct procedure to the user.",
    "Could not reproduce; the user confirmed it works now.",
    "Restarted the application pool on both nodes.",
    "Renewed the certificate.",
    "Freed disk space and added monitoring.",
]
RESOLUTION_CODES = [
    ("solved_permanently", 55),
    ("solved_workaround", 20),
    ("user_error", 10),
    ("not_reproducible", 6),
    ("no_fault_found", 5),
    ("duplicate", 4),
]
CHANNELS = [("portal", 40), ("email", 25), ("agent", 20), ("event", 10), ("api", 5)]
ON_HOLD_REASONS = [("awaiting_caller", 60), ("awaiting_supplier", 25), ("awaiting_change", 15)]
IMPACTS = [(1, 10), (2, 30), (3, 60)]
URGENCIES = [(1, 15), (2, 35), (3, 50)]
#: Median hours to resolve by priority (log-normal, sigma 1).
TTR_MEDIAN_HOURS = {1: 3, 2: 8, 3: 24, 4: 72, 5: 168}
#: Share of incidents that linger open whatever their age (backlog, waiting on suppliers).
BACKLOG_SHARE = 0.17
CANCELLED_SHARE = 0.07
DEFAULT_MATRIX = {(i, u): min(5, i + u - 1) for i in (1, 2, 3) for u in (1, 2, 3)}

#: Columns this script fills; any other column of the model gets its field default.
GENERATED = [
    "number",
    "title",
    "description",
    "state",
    "assignment_group_id",
    "assigned_to_id",
    "created_at",
    "updated_at",
    "version",
    "caller_id",
    "opened_by_id",
    "category_id",
    "subcategory_id",
    "service_id",
    "impact",
    "urgency",
    "priority",
    "channel",
    "on_hold_reason",
    "resolution_code",
    "resolution_notes",
    "major",
    "parent_id",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "reassignment_count",
    "reopen_count",
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="incidents to load")
    parser.add_argument(
        "--database-url",
        help=f"PostgreSQL URL (default: $DATABASE_URL, else {benchlib.DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--truncate", action="store_true", help="wipe incidents first")
    parser.add_argument("--years", type=float, default=2.0, help="span of created_at")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--no-journal", action="store_true", help="skip the one 'created' journal entry each"
    )
    parser.add_argument(
        "--keep-indexes",
        action="store_true",
        help="COPY into the indexed table instead of dropping and rebuilding its indexes"
        " (the default when the table already holds at least --count rows)",
    )
    return parser.parse_args()


def cumulative(pairs):
    values, total, cum = [], 0, []
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


def skewed(ids, rng, spread=1.0):
    """Cumulative weights of a Zipf-like skew over ``ids`` (shuffled, so not by id)."""
    ids = list(ids)
    rng.shuffle(ids)
    pairs = [(v, 1.0 / (rank + 1) ** spread) for rank, v in enumerate(ids)]
    return cumulative(pairs)


def picker(values, cum, rng):
    total = cum[-1]
    rand = rng.random

    def pick():
        return values[bisect_right(cum, rand() * total)]

    return pick


# Reference data -----------------------------------------------------------------------


def reference_data(rng):
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from catalogue.models import Service
    from incidents.models import Category, PriorityRule
    from itsm.accounts.models import Role, Team, User

    unusable = make_password(None)
    with transaction.atomic():
        Team.objects.bulk_create(
            [Team(name=n, email=f"{n.lower().replace(' ', '-')}@bench.invalid") for n in TEAMS],
            ignore_conflicts=True,
        )
        teams = list(Team.objects.filter(name__in=TEAMS).order_by("name"))
        User.objects.bulk_create(
            [
                User(
                    username=f"agent{i:03d}",
                    first_name="Agent",
                    last_name=f"{i:03d}",
                    email=f"agent{i:03d}@bench.invalid",
                    role=Role.AGENT,
                    password=unusable,
                )
                for i in range(1, 201)
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        agents = list(User.objects.filter(username__startswith="agent").order_by("username"))
        agents = [a for a in agents if a.username[5:].isdigit()]
        User.objects.bulk_create(
            [
                User(
                    username=f"user{i:05d}",
                    first_name="User",
                    last_name=f"{i:05d}",
                    email=f"user{i:05d}@bench.invalid",
                    role=Role.END_USER,
                    password=unusable,
                )
                for i in range(1, 5001)
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        callers = list(
            User.objects.filter(username__regex=r"^user[0-9]{5}$").values_list("id", flat=True)
        )
        # Every agent in one team, a third of them in a second one too.
        Membership = Team.members.through
        links = set()
        for i, agent in enumerate(agents):
            links.add((teams[i % len(teams)].pk, agent.pk))
            if i % 3 == 0:
                links.add((teams[(i * 7 + 3) % len(teams)].pk, agent.pk))
        Membership.objects.bulk_create(
            [Membership(team_id=t, user_id=u) for t, u in sorted(links)], ignore_conflicts=True
        )
        members = {t.pk: [] for t in teams}
        generated = [a.pk for a in agents]  # not bench_agent, which api_load adds to every team
        for t, u in Membership.objects.filter(team__in=teams, user__in=generated).values_list(
            "team_id", "user_id"
        ):
            members[t].append(u)
        for team in teams:
            if team.manager_id is None and members[team.pk]:
                team.manager_id = min(members[team.pk])
                team.save(update_fields=["manager"])
        Service.objects.bulk_create(
            [
                Service(name=n, owner_team=teams[i % len(teams)])
                for i, n in enumerate(SERVICE_STEMS)
            ],
            ignore_conflicts=True,
        )
        services = list(
            Service.objects.filter(name__in=SERVICE_STEMS).values("id", "name", "owner_team_id")
        )
        Category.objects.bulk_create([Category(name=n) for n in CATEGORIES], ignore_conflicts=True)
        tops = {c.name: c for c in Category.objects.filter(parent=None, name__in=list(CATEGORIES))}
        Category.objects.bulk_create(
            [Category(name=s, parent=tops[t]) for t, subs in CATEGORIES.items() for s in subs],
            ignore_conflicts=True,
        )
        children = {c.pk: [] for c in tops.values()}
        for pk, parent_id in Category.objects.filter(parent__in=list(tops.values())).values_list(
            "pk", "parent_id"
        ):
            children[parent_id].append(pk)
        matrix = dict(DEFAULT_MATRIX)
        for rule in PriorityRule.objects.all():
            matrix[(rule.impact, rule.urgency)] = rule.priority
    return {
        "teams": [t.pk for t in teams],
        "members": members,
        "agents": [a.pk for a in agents],
        "callers": callers,
        "services": services,
        "categories": children,
        "matrix": matrix,
    }


# Row generation -----------------------------------------------------------------------


def arrival_weights(start: datetime, hours: int, rng):
    """Relative incident volume of each hour: office hours, weekdays, daily noise, growth."""
    weights = []
    day_factor = 1.0
    for h in range(hours):
        moment = start + timedelta(hours=h)
        if moment.hour == 0 or h == 0:
            day_factor = rng.uniform(0.75, 1.25)
        weekday = moment.weekday() < 5
        hour = moment.hour
        if 8 <= hour < 18:
            w = 1.0 if weekday else 0.08
        elif 6 <= hour < 8 or 18 <= hour < 22:
            w = 0.3 if weekday else 0.05
        else:
            w = 0.04 if weekday else 0.02
        growth = 0.85 + 0.3 * h / hours
        weights.append(w * day_factor * growth)
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    return weights, cum


def text(value) -> str:
    """A value in COPY text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    value = str(value)
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _safe(*groups) -> None:
    for group in groups:
        for value in group:
            if text(value) != value:
                raise ValueError(f"Template text needs COPY escaping: {value!r}")


def format_row(row) -> str:
    """A generated row in COPY text format; its strings come from the templates above,
    checked once by ``_safe``, so they need no escaping."""
    return "\t".join(
        [
            v
            if type(v) is str
            else r"\N"
            if v is None
            else v.isoformat()
            if type(v) is datetime
            else ("t" if v else "f")
            if type(v) is bool
            else str(v)
            for v in row
        ]
    )


def incident_rows(count: int, first_number: int, ref: dict, now: datetime, years: float, rng):
    """Yield one tuple of GENERATED values per incident, oldest first."""
    hours = int(years * 365 * 24)
    start = now - timedelta(hours=hours)
    weights, cum = arrival_weights(start, hours, rng)
    total = cum[-1]
    _safe(
        SERVICE_STEMS,
        SYMPTOMS,
        DESCRIPTIONS,
        RESOLUTION_NOTES,
        [s["name"] for s in ref["services"]],
    )
    rand = rng.random
    lognorm = rng.lognormvariate
    uniform = rng.uniform

    pick_caller = picker(*skewed(ref["callers"], rng, spread=0.6), rng)
    pick_service = picker(*skewed(ref["services"], rng, spread=0.8), rng)
    pick_impact = picker(*cumulative(IMPACTS), rng)
    pick_urgency = picker(*cumulative(URGENCIES), rng)
    pick_channel = picker(*cumulative(CHANNELS), rng)
    pick_hold = picker(*cumulative(ON_HOLD_REASONS), rng)
    pick_code = picker(*cumulative(RESOLUTION_CODES), rng)
    teams, members, agents = ref["teams"], ref["members"], ref["agents"]
    categories = ref["categories"]
    top_categories = sorted(categories)
    matrix = ref["matrix"]
    ttr_mu = {p: math.log(h * 3600) for p, h in TTR_MEDIAN_HOURS.items()}
    # Teams differ: one closes nearly everything at once (many incidents, almost none
    # open), the others keep more or less of a backlog. Mean factor about 1.
    shuffled = list(teams)
    rng.shuffle(shuffled)
    backlog_share = {t: BACKLOG_SHARE * rng.uniform(0.3, 1.7) for t in shuffled[1:]}
    backlog_share[shuffled[0]] = BACKLOG_SHARE * 0.01
    response_mu = math.log(30 * 60)
    auto_close = timedelta(days=3)
    hour = 0
    choice = rng.choice

    for i in range(count):
        # Stratified inverse-CDF sampling of the arrival curve: exactly `count` rows,
        # ascending times, none in the future.
        target = (i + rand()) / count * total
        while cum[hour] < target:
            hour += 1
        before = cum[hour - 1] if hour else 0.0
        offset = (target - before) / weights[hour] * 3600.0
        created = start + timedelta(hours=hour, seconds=min(offset, 3599.999))
        age = (now - created).total_seconds()

        impact, urgency = pick_impact(), pick_urgency()
        priority = matrix[(impact, urgency)]
        service = pick_service()
        channel = pick_channel()
        caller = pick_caller()
        opened_by = caller if channel == "portal" else choice(agents)
        category = choice(top_categories) if rand() < 0.9 else None
        subcategory = choice(categories[category]) if category and rand() < 0.7 else None
        group = service["owner_team_id"] if rand() < 0.7 else choice(teams)
        assignee = choice(members[group]) if members.get(group) else None

        first_response = created + timedelta(seconds=lognorm(response_mu, 1.0))
        resolved = closed = None
        hold_reason = code = notes = ""
        reopen = 1 if rand() < 0.03 else 0
        backlog = rand() < backlog_share.get(group, BACKLOG_SHARE)
        if not backlog and rand() < CANCELLED_SHARE:
            end = created + timedelta(seconds=lognorm(math.log(2 * 3600), 1.0))
            if end <= now:
                state, closed, reopen = "cancelled", end, 0
                if rand() < 0.5 or first_response > end:
                    first_response, assignee = None, None
            else:
                backlog = True
        elif not backlog:
            resolved = created + timedelta(seconds=lognorm(ttr_mu[priority], 1.0))
            if resolved > now:
                backlog, resolved = True, None
            else:
                code, notes = pick_code(), choice(RESOLUTION_NOTES)
                if first_response > resolved:
                    first_response = resolved
                if rand() < 0.3:  # the caller confirms and closes early
                    early = resolved + timedelta(seconds=uniform(1800, 48 * 3600))
                    closed = early if early <= now else None
                elif resolved + auto_close <= now:
                    closed = resolved + auto_close + timedelta(seconds=uniform(0, 300))
                state = "closed" if closed else "resolved"
        if backlog:
            reopen = 0
            if first_response > now or (age < 4 * 3600 and rand() < 0.5) or rand() < 0.12:
                state, first_response = "new", None
                if rand() < 0.6:
                    assignee = None
                if rand() < 0.4:
                    group, assignee = None, None
            elif rand() < 0.68:
                state = "in_progress"
            else:
                state, hold_reason = "on_hold", pick_hold()
        r = rand()
        reassignments = 0 if r < 0.7 else 1 if r < 0.9 else 2 if r < 0.97 else 3
        if group is None:
            reassignments = 0
        stamps = [t for t in (created, first_response, resolved, closed) if t is not None]
        updated = max(stamps)
        if state in ("in_progress", "on_hold") and updated < now:
            updated = updated + (now - updated) * rand() * 0.5
        version = 1 + len(stamps) - 1 + reassignments + 2 * reopen
        major = priority == 1 and rand() < 0.02
        title = f"{service['name']}: {choice(SYMPTOMS)}"
        description = f"{title}. {choice(DESCRIPTIONS)}"
        yield (
            f"INC{first_number + i:07d}",
            title,
            description,
            state,
            group,
            assignee,
            created,
            updated,
            version,
            caller,
            opened_by,
            category,
            subcategory,
            service["id"],
            impact,
            urgency,
            priority,
            channel,
            hold_reason,
            code,
            notes,
            major,
            None,
            first_response,
            resolved,
            closed,
            reassignments,
            reopen,
        )


# Loading ------------------------------------------------------------------------------


def foreign_keys(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's foreign keys."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    return cursor.fetchall()


def extra_columns(connection):
    """Columns of the model this script does not generate, with their default as text."""
    from incidents.models import Incident

    extra = []
    for field in Incident._meta.concrete_fields:
        if field.primary_key or field.column in GENERATED:
            continue
        value = field.get_default() if field.has_default() else None
        if value is None and not field.null and field.has_db_default():
            continue  # let the database fill it
        extra.append((field.column, text(field.get_db_prep_save(value, connection))))
    return extra


def copy_incidents(cursor, rows, count, extra, started):
    columns = GENERATED + [c for c, _ in extra]
    tail = "".join("\t" + v for _, v in extra)
    sql = f"COPY incidents_incident ({', '.join(columns)}) FROM STDIN WITH (FORMAT text)"
    done = 0
    while done < count:
        buffer = io.StringIO()
        write = buffer.write
        n = 0
        for row in rows:
            write(format_row(row))
            write(tail)
            write("\n")
            n += 1
            if n == CHUNK_ROWS:
                break
        if not n:
            break
        buffer.seek(0)
        cursor.copy_expert(sql, buffer)
        done += n
        elapsed = time.monotonic() - started
        print(f"  {done:>10,} rows  {elapsed:7.1f} s  {done / elapsed:9,.0f} rows/s", flush=True)
    return done


def main():
    args = parse_args()
    if args.count < 1:
        sys.exit("--count must be at least 1")
    url = benchlib.database_url(args.database_url)
    benchlib.setup_django(url)

    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection, transaction

    from itsm.core.numbering import FIRST_NUMBER

    rng = random.Random(args.seed)
    t0 = time.monotonic()
    print("migrate…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    t_migrate = time.monotonic() - t0

    t1 = time.monotonic()
    ref = reference_data(rng)
    t_ref = time.monotonic() - t1
    print(
        f"reference data: {len(ref['teams'])} teams, {len(ref['agents'])} agents, "
        f"{len(ref['callers'])} callers, {len(ref['services'])} services, "
        f"{len(ref['categories'])} categories ({t_ref:.1f} s)",
        flush=True,
    )

    from incidents.models import Incident

    incident_ct = ContentType.objects.get_for_model(Incident).pk
    phases = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Django makes foreign keys DEFERRABLE INITIALLY DEFERRED; check them per COPY
        # statement instead of queueing a million events until commit (and CREATE INDEX
        # refuses to run with pending trigger events).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if args.truncate:
            t = time.monotonic()
            benchlib.allow_resetting(cursor)
            cursor.execute("TRUNCATE incidents_incident RESTART IDENTITY CASCADE")
            generic = ["core_journalentry", "core_attachment", "core_notification"]
            for table in generic:
                cursor.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {table} WHERE content_type_id IS DISTINCT FROM %s)",
                    [incident_ct],
                )
                if cursor.fetchone()[0]:
                    cursor.execute(f"DELETE FROM {table} WHERE content_type_id = %s", [incident_ct])
                else:
                    cursor.execute(f"TRUNCATE {table} RESTART IDENTITY CASCADE")
            cursor.execute(
                "DELETE FROM core_recordlink WHERE source_type_id = %s OR target_type_id = %s",
                [incident_ct, incident_ct],
            )
            # No incident is left: number from the start again.
            cursor.execute("SELECT setval('itsm_number_inc', %s, false)", [FIRST_NUMBER])
            phases["truncate"] = time.monotonic() - t

        # Reserve a block of numbers from the native sequence.
        cursor.execute("SELECT nextval('itsm_number_inc')")
        first = cursor.fetchone()[0]
        last = first + args.count - 1
        if last > MAX_NUMBER:
            sys.exit(f"Numbers would pass INC{MAX_NUMBER}; use --truncate or a smaller --count.")
        cursor.execute("SELECT setval('itsm_number_inc', %s)", [last])
        print(f"numbers INC{first:07d} … INC{last:07d}", flush=True)

        # Like pg_restore: drop the plain indexes and the foreign keys, load, then rebuild
        # the indexes and re-add the keys (one validating join each instead of a trigger
        # check per row and key). All in this transaction: a failure restores them.
        # Only worth it when this load is most of the table: appending a few rows to a big
        # table goes through the indexes.
        cursor.execute("SELECT count(*) FROM incidents_incident")
        existing = cursor.fetchone()[0]
        dropped, dropped_fks = {}, {}
        if not args.keep_indexes and existing < args.count:
            tables = ["incidents_incident"] + ([] if args.no_journal else ["core_journalentry"])
            for table in tables:
                dropped[table] = benchlib.plain_indexes(cursor, table)
                for name, _ in dropped[table]:
                    cursor.execute(f'DROP INDEX "{name}"')
                dropped_fks[table] = foreign_keys(cursor, table)
                for name, _ in dropped_fks[table]:
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            print(
                f"dropped {sum(len(v) for v in dropped.values())} indexes and "
                f"{sum(len(v) for v in dropped_fks.values())} foreign keys for the load",
                flush=True,
            )

        now = datetime.now(UTC).replace(microsecond=0)
        rows = incident_rows(args.count, first, ref, now, args.years, rng)
        t = time.monotonic()
        print(f"COPY {args.count:,} incidents in chunks of {CHUNK_ROWS:,}…", flush=True)
        loaded = copy_incidents(cursor, rows, args.count, extra_columns(connection), t)
        phases["copy"] = time.monotonic() - t

        if not args.no_journal:
            t = time.monotonic()
            cursor.execute(
                """
                INSERT INTO core_journalentry
                    (content_type_id, object_id, kind, internal, body, data, actor_id, created_at)
                SELECT %s, id, 'created', false, '',
                       jsonb_build_object('channel', channel, 'priority', priority),
                       opened_by_id, created_at
                FROM incidents_incident
                WHERE number BETWEEN %s AND %s
                """,
                [incident_ct, f"INC{first:07d}", f"INC{last:07d}"],
            )
            phases["journal"] = time.monotonic() - t
            print(
                f"journal: {cursor.rowcount:,} 'created' entries ({phases['journal']:.1f} s)",
                flush=True,
            )

        t = time.monotonic()
        for table, indexes in dropped.items():
            for name, definition in indexes:
                ti = time.monotonic()
                cursor.execute(definition)
                print(f"  index {table}.{name}: {time.monotonic() - ti:.1f} s", flush=True)
        if dropped:
            phases["indexes"] = time.monotonic() - t
        t = time.monotonic()
        for table, keys in dropped_fks.items():
            for name, definition in keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        if dropped_fks:
            phases["foreign_keys"] = time.monotonic() - t

        cursor.execute(
            "SELECT setval('itsm_number_inc', GREATEST((SELECT last_value FROM itsm_number_inc),"
            " (SELECT COALESCE(MAX(SUBSTRING(number FROM 4)::bigint), 0) FROM incidents_incident)))"
        )
        print(f"sequence itsm_number_inc now at {cursor.fetchone()[0]}", flush=True)

    t = time.monotonic()
    with connection.cursor() as cursor:
        for table in ("incidents_incident", "core_journalentry"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        # The rest too: fresh users, teams and services have no statistics yet, and the
        # planner then misjudges every join to them.
        cursor.execute("ANALYZE")
    phases["vacuum_analyze"] = time.monotonic() - t
    total = time.monotonic() - t1

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, count(*), round(100.0 * count(*) / sum(count(*)) OVER (), 1)"
            " FROM incidents_incident GROUP BY state ORDER BY 2 DESC"
        )
        states = cursor.fetchall()
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('incidents_incident'))")
        size = cursor.fetchone()[0]

    print()
    print("states: " + ", ".join(f"{s} {n:,} ({p}%)" for s, n, p in states))
    print(f"incidents_incident total size (with indexes): {size}")
    print("phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    print(f"migrate: {t_migrate:.1f} s (not counted below)")
    print(
        f"loaded {loaded:,} incidents in {total:.1f} s "
        f"= {loaded / total:,.0f} rows/s end to end "
        f"(COPY alone {loaded / phases['copy']:,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
