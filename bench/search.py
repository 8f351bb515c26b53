"""Search over a million incidents and 50,000 knowledge articles: p50/p99 of full-text
search (as staff and as an employee) and of suggestions while typing.

Run by hand against the incident bench database (SQLite refused):

    .venv/bin/python bench/generate_incidents.py --count 1000000 --truncate   # once
    .venv/bin/python bench/search.py                 # articles (if fewer), then measure
    .venv/bin/python bench/search.py --no-load       # measure only

Not collected by pytest, never gates CI.

1. ``migrate``; if the database holds fewer than ``--articles`` (default 50,000)
   articles, adds published ones with ``bulk_create`` (numbers ``KB9…`` so they never
   meet real ones): titles and bodies from an IT vocabulary (how-tos, fixes, FAQs about
   the services the incident generator uses), 80% for the portal, 20% internal, with the
   published copy set as a publication would; ``ANALYZE``.
2. Search, ``itsm.core.search.search`` (one ranked query per kind the caller may see):
   ``--queries`` (default 300) queries, half from the incident generator's vocabulary and
   half from the articles' (one to three words, some quoted phrases, some rare words), as an agent (every incident, article and known
   error) and as an employee who has reported incidents (their own incidents, portal
   articles, public known errors).
3. Suggestions, ``itsm.core.search.suggest`` (articles and known errors, last word as a
   prefix) for titles typed letter by letter from the third letter, as an employee.
4. The workspace's header search (``itsm.core.search.quick``: every kind, CIs, assets
   and people included) for titles typed letter by letter, as an agent, and a record
   number typed whole (``lookup``).
5. ``/api/v1/search/`` through Django's test client for 100 queries (serialisation
   included).
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib

SERVICES = [
    "VPN", "Outlook", "E-mail", "SAP", "ERP", "Wi-Fi", "printer", "Teams", "SharePoint",
    "laptop", "password", "MFA", "Citrix", "Jira", "Confluence", "Salesforce", "payroll",
    "VPN client", "badge reader", "docking station", "monitor", "OneDrive", "Zoom", "CRM",
    "expense tool", "HR portal", "intranet", "file share", "backup", "antivirus",
]  # fmt: skip
SYMPTOMS = [
    "cannot log in", "is very slow", "shows error 500", "is not reachable",
    "keeps disconnecting", "does not load", "crashes on start", "password expired",
    "account locked", "missing permissions", "cannot print", "update failed",
    "sync not working", "certificate warning", "data missing", "notifications not received",
    "blank screen", "licence expired", "disk full", "no sound in calls",
]  # fmt: skip
KINDS = ["How to fix", "Troubleshooting", "FAQ:", "Known issue:", "Workaround:", "Guide:"]
SENTENCES = [
    "Open the {s} settings and check the account is signed in.",
    "If the {s} {p}, restart it and wait two minutes before trying again.",
    "Most reports of this come after the monthly update; install the latest patch.",
    "Clear the cache: close the application, delete the local profile folder, reopen it.",
    "On the office network the proxy must be set automatically; at home it must be off.",
    "When the message mentions a certificate, check the date and time of your computer.",
    "Still failing? Report an issue and attach a screenshot of the error.",
    "Administrators: check the service health dashboard and the event log first.",
    "The {s} team publishes planned maintenance on the intranet every Friday.",
    "Your manager can request the missing role through the request catalogue.",
]
RARE = ["kerberos", "dhcp", "mtu", "ipsec", "smtp", "ldap", "oauth", "tls", "dns", "sso"]


def articles_needed(count: int, rng: random.Random):
    from django.utils import timezone

    from itsm.accounts.models import User
    from practices.knowledge.models import Article

    now = timezone.now()
    owner, _ = User.objects.get_or_create(
        username="bench-knowledge-owner", defaults={"role": "agent"}
    )
    have = Article.objects.filter(number__startswith="KB9").count()
    made = []
    for i in range(have, count):
        service, symptom = rng.choice(SERVICES), rng.choice(SYMPTOMS)
        title = f"{rng.choice(KINDS)} {service} {symptom}"
        if rng.random() < 0.3:
            title += f" ({rng.choice(RARE)})"
        body = " ".join(
            rng.choice(SENTENCES).format(s=service, p=symptom) for _ in range(rng.randint(6, 14))
        )
        summary = f"What to do when {service} {symptom}."
        keywords = f"{service.lower()} {rng.choice(RARE)}"
        made.append(
            Article(
                number=f"KB9{i:06d}",
                title=title,
                summary=summary,
                body=body,
                keywords=keywords,
                state="published",
                audience="portal" if rng.random() < 0.8 else "internal",
                published_number=1,
                published_title=title,
                published_summary=summary,
                published_keywords=keywords,
                published_body=body,
                published_at=now,
                owner=owner,
                created_at=now,
                updated_at=now,
            )
        )
    for start in range(0, len(made), 2000):
        Article.objects.bulk_create(made[start : start + 2000])
    return len(made)


def queries(rng: random.Random, n: int) -> list[str]:
    """Half from the incident generator's words (services, symptoms), half from the
    articles' (so both kinds are really searched)."""
    import generate_incidents as incidents

    out = []
    for _ in range(n):
        if rng.random() < 0.5:
            service = rng.choice(incidents.SERVICE_STEMS)
            symptom = rng.choice(incidents.SYMPTOMS)
            roll = rng.random()
            if roll < 0.4:
                out.append(service.lower())
            elif roll < 0.8:
                out.append(f"{service} {symptom.split()[-1]}")
            else:
                out.append(f'"{symptom}"')
            continue
        roll = rng.random()
        if roll < 0.35:
            out.append(rng.choice(SERVICES).lower())
        elif roll < 0.7:
            out.append(f"{rng.choice(SERVICES)} {rng.choice(SYMPTOMS).split()[-1]}")
        elif roll < 0.85:
            out.append(f'"{rng.choice(SYMPTOMS)}"')
        else:
            out.append(f"{rng.choice(RARE)} {rng.choice(SERVICES)}")
    return out


def percentiles(values) -> str:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return (
        f"p50 {q[49] * 1000:7.1f} ms  p90 {q[89] * 1000:7.1f} ms  p99 {q[98] * 1000:7.1f} ms  "
        f"max {ordered[-1] * 1000:7.1f} ms"
    )


def timed(label, calls) -> None:
    times, sizes = [], []
    for call in calls:
        started = time.perf_counter()
        hits = call()
        times.append(time.perf_counter() - started)
        sizes.append(len(hits))
    print(f"{label:<46} {percentiles(times)}  hits: median {sorted(sizes)[len(sizes) // 2]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    url = benchlib.database_url(args.database_url)
    benchlib.setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from incidents.models import Incident
    from itsm.accounts.models import User
    from itsm.core import search
    from practices.knowledge.models import Article

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    if not args.no_load:
        started = time.perf_counter()
        made = articles_needed(args.articles, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE knowledge_article")
        print(f"articles: {made:,} added in {time.perf_counter() - started:.1f} s")
    incidents = Incident.objects.count()
    articles = Article.objects.count()
    print(f"\nSearch over {incidents:,} incidents and {articles:,} articles ({connection.vendor})")
    print("kinds:", ", ".join(s.key for s in search.registry.sources))

    agent, _ = User.objects.get_or_create(username="bench-search-agent", defaults={"role": "agent"})
    caller_id = Incident.objects.values("caller_id").order_by("caller_id").first()["caller_id"]
    employee = User.objects.get(pk=caller_id)
    own = Incident.objects.filter(caller=employee).count()
    print(f"employee {employee.username}: {own:,} own incidents")
    texts = queries(rng, args.queries)
    for text in texts[:5]:  # warm the caches (plans, pages)
        search.search(agent, text)
    timed(
        "search, agent (all kinds, 20 per kind)",
        [lambda t=t: search.search(agent, t) for t in texts],
    )
    timed(
        "search, agent, incidents only",
        [lambda t=t: search.search(agent, t, kinds=["incidents"]) for t in texts],
    )
    timed(
        "search, agent, articles only",
        [lambda t=t: search.search(agent, t, kinds=["articles"]) for t in texts],
    )
    timed(
        "search, employee (own incidents, portal)",
        [lambda t=t: search.search(employee, t) for t in texts],
    )
    typed = []
    for _ in range(max(1, args.queries // 10)):
        title = f"{rng.choice(SERVICES)} {rng.choice(SYMPTOMS)}"
        typed += [title[:n] for n in range(3, len(title) + 1)]
    timed(
        f"suggestions, employee ({len(typed)} keystrokes)",
        [lambda t=t: search.suggest(employee, t) for t in typed],
    )
    timed("suggestions, agent", [lambda t=t: search.suggest(agent, t) for t in typed[:300]])
    # The workspace's header search: every kind (incidents, requests, tasks, problems,
    # articles, CIs, assets, people) as an agent types, and a number typed whole.
    timed(
        "header search while typing, agent (every kind)",
        [lambda t=t: search.quick(agent, t)[1] for t in typed[:300]],
    )
    numbers = list(Incident.objects.order_by("-pk").values_list("number", flat=True)[:100])
    timed(
        "header search, a number typed whole",
        [lambda n=n: [search.lookup(agent, n)] for n in numbers],
    )
    client = Client()
    client.force_login(agent)
    calls = []
    for text in texts[:100]:

        def call(text=text):
            response = client.get("/api/v1/search/", {"q": text})
            assert response.status_code == 200, response.status_code
            return response.json()["results"]

        calls.append(call)
    timed("API /api/v1/search/ (agent, 100 queries)", calls)


if __name__ == "__main__":
    main()
