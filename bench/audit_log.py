"""The audit log: the cost of an append (alone in its transaction, and many in one),
appends from concurrent writers (one chain, checked), and ``audit_verify`` over the
whole log.

Run by hand against a PostgreSQL bench database (SQLite refused); it appends
``bench.*`` events, which stay (the log is append-only):

    .venv/bin/python bench/audit_log.py --events 2000 --writers 4

Not collected by pytest, never gates CI.
"""

import argparse
import statistics
import threading
import time

import benchlib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    benchlib.setup_django(benchlib.database_url(args.database_url))

    from django.core.management import call_command
    from django.db import connections, transaction

    from itsm.audit.services import record
    from itsm.audit.verify import verify

    call_command("migrate", verbosity=0)
    values = {"before": {"name": "old"}, "after": {"name": "new"}}

    took = []
    for i in range(args.events):
        start = time.perf_counter()
        record("bench.append", number=i, **values)
        took.append(time.perf_counter() - start)
    took.sort()
    print(
        f"append, own transaction: {args.events} events, "
        f"p50 {1000 * statistics.median(took):.2f} ms, "
        f"p99 {1000 * took[int(len(took) * 0.99) - 1]:.2f} ms"
    )

    start = time.perf_counter()
    with transaction.atomic():
        for i in range(args.events):
            record("bench.batch", number=i, **values)
    spent = time.perf_counter() - start
    print(f"append, one transaction: {1000 * spent / args.events:.2f} ms an event")

    each = args.events // args.writers
    errors = []

    def write(n):
        try:
            for i in range(each):
                record("bench.concurrent", writer=n, number=i)
        except Exception as exc:  # counted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(args.writers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spent = time.perf_counter() - start
    print(
        f"{args.writers} concurrent writers: {each * args.writers} events in {spent:.2f} s "
        f"({each * args.writers / spent:.0f} a second), errors {len(errors)}"
    )

    start = time.perf_counter()
    result = verify()
    spent = time.perf_counter() - start
    print(
        f"verify: {result.checked} events in {spent:.2f} s "
        f"({result.checked / max(spent, 1e-9):.0f} a second), "
        f"{'one chain' if result.ok else f'broken at #{result.broken}: {result.reason}'}"
    )


if __name__ == "__main__":
    main()
