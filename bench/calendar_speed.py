"""Speed of the business-calendar engine (practices/service_level/calendars.py).

Pure Python, no database, no Django set-up: ``.venv/bin/python bench/calendar_speed.py``.
Not collected by pytest (not a ``test_*.py``; testpaths is ``tests``).

For each case, random start instants spread over two years (2026-2027, in a mix of time
zones) are fed to ``add()``, then random ``[start, end)`` spans to ``seconds_between()``.
Each measurement stops after ``--budget`` seconds or ``--count`` calls, whichever comes first,
and prints calls per second. The first pass also fills the calendar's per-day cache, as a
long-running worker's would be; ``--cold`` measures a fresh calendar per case instead.
"""

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from practices.service_level.calendars import (
    TWENTY_FOUR_SEVEN,
    CalendarEngine,
    CalendarSpec,
)

HOUR = 3600.0
OFFICE_DE = CalendarSpec(
    time_zone="Europe/Berlin",
    hours=dict.fromkeys(range(5), ((9 * 60, 17 * 60),)),
    holiday_country="DE",
)
CASES = [
    # (label, spec, business seconds to add, max wall span for seconds_between)
    ("8 business hours, 9-17 Mon-Fri Berlin + DE holidays", OFFICE_DE, 8 * HOUR, 4),
    ("5 business days,  9-17 Mon-Fri Berlin + DE holidays", OFFICE_DE, 5 * 8 * HOUR, 10),
    ("8 hours, 24x7", TWENTY_FOUR_SEVEN, 8 * HOUR, 4),
    ("5 days (120 h), 24x7", TWENTY_FOUR_SEVEN, 5 * 24 * HOUR, 10),
]
ZONES = [ZoneInfo(name) for name in ("Europe/Berlin", "UTC", "America/New_York")]


def random_starts(count: int, rng: random.Random) -> list[datetime]:
    low = datetime(2026, 1, 1, tzinfo=UTC)
    span = 2 * 365 * 86400
    return [
        (low + timedelta(seconds=rng.uniform(0, span))).astimezone(rng.choice(ZONES))
        for _ in range(count)
    ]


def measure(call, args_list, budget: float) -> tuple[int, float]:
    """Calls ``call(*args)`` over args_list until done or ``budget`` seconds; (calls, secs)."""
    done = 0
    chunk = 2000
    began = time.perf_counter()
    while done < len(args_list):
        for args in args_list[done : done + chunk]:
            call(*args)
        done += len(args_list[done : done + chunk])
        if time.perf_counter() - began > budget:
            break
    return done, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300_000, help="random starts per case")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--cold", action="store_true", help="no warm-up of the day cache")
    options = parser.parse_args()

    rng = random.Random(options.seed)
    starts = random_starts(options.count, rng)
    print(f"{len(starts):,} random starts over 2026-2027; budget {options.budget:g} s per figure")
    print(f"{'case':<55} {'add()/s':>12} {'between()/s':>12}")
    for label, spec, seconds, max_days in CASES:
        calendar = CalendarEngine(spec)  # a fresh cache per case
        if not options.cold:
            for start in starts[:5000]:
                calendar.add(start, seconds)
        add_args = [(start, seconds) for start in starts]
        calls, elapsed = measure(calendar.add, add_args, options.budget)
        add_rate = calls / elapsed
        between_args = [
            (start, start + timedelta(seconds=rng.uniform(0, max_days * 86400))) for start in starts
        ]
        calls, elapsed = measure(calendar.seconds_between, between_args, options.budget)
        between_rate = calls / elapsed
        print(f"{label:<55} {add_rate:>12,.0f} {between_rate:>12,.0f}")


if __name__ == "__main__":
    main()
