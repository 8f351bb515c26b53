"""Demo calendars and agreements, loaded by ``manage.py load_demo`` before the incidents so
that the demo incidents run real timers. Everything is looked up by name first."""

from datetime import time, timedelta

from django.contrib.contenttypes.models import ContentType

from .models import Agreement, BusinessCalendar, ClosedDay, Target, Threshold, WorkingPeriod

HOUR = timedelta(hours=1)


def calendar_24x7() -> BusinessCalendar:
    return BusinessCalendar.objects.get_or_create(name="24x7", defaults={"always_open": True})[0]


def office_calendar() -> BusinessCalendar:
    calendar, created = BusinessCalendar.objects.get_or_create(
        name="Berlin office hours",
        defaults={
            "time_zone": "Europe/Berlin",
            "holiday_country": "DE",
            "holiday_subdivision": "BE",
        },
    )
    if created:
        for weekday in range(5):
            WorkingPeriod.objects.create(
                calendar=calendar, weekday=weekday, start=time(8), end=time(18)
            )
        ClosedDay.objects.create(calendar=calendar, date="2026-12-24", name="Christmas Eve")
        ClosedDay.objects.create(calendar=calendar, date="2026-12-31", name="New Year's Eve")
    return calendar


def agreement(name, defaults, targets, thresholds) -> Agreement:
    found, created = Agreement.objects.get_or_create(name=name, defaults=defaults)
    if created:
        for target_name, metric, duration, calendar in targets:
            Target.objects.create(
                agreement=found,
                name=target_name,
                metric=metric,
                duration=duration,
                calendar=calendar,
            )
        for fields in thresholds:
            Threshold.objects.create(agreement=found, **fields)
    return found


def load(context) -> None:
    incidents = ContentType.objects.filter(app_label="incidents", model="incident").first()
    if incidents is None:
        return
    always, office = calendar_24x7(), office_calendar()
    warn = {"notify_assignee": True}
    breach = {"notify_assignee": True, "notify_team_manager": True}
    agreement(
        "Critical incidents",
        {
            "record_type": incidents,
            "order": 10,
            "priorities": "1,2",
            "description": "Priority 1 and 2: around the clock.",
        },
        [
            ("Respond in 15m", "response", 15 * timedelta(minutes=1), always),
            ("Resolve in 4h", "resolution", 4 * HOUR, always),
        ],
        [
            {"percent": 50, **warn},
            {"percent": 75, **breach},
            {"percent": 100, **breach, "notify_addresses": "major-incidents@example.com"},
        ],
    )
    agreement(
        "Standard incidents",
        {
            "record_type": incidents,
            "order": 100,
            "description": "Everything else: office hours in Berlin.",
        },
        [
            ("Respond in 4h", "response", 4 * HOUR, office),
            ("Resolve in 3 days", "resolution", 30 * HOUR, office),
        ],
        [{"percent": 75, **warn}, {"percent": 100, **breach}],
    )
    network = context.teams.get("Network")
    if network is not None:
        agreement(
            "Network team OLA",
            {
                "record_type": incidents,
                "kind": Agreement.Kind.OLA,
                "team": network,
                "order": 200,
                "description": "The network team's share of a resolution.",
            },
            [("Network: resolve in 8h", "resolution", 8 * HOUR, office)],
            [{"percent": 100, "notify_team_manager": True, "notify_assignee": False}],
        )
    agreement(
        "PrintCo support contract",
        {
            "record_type": incidents,
            "kind": Agreement.Kind.UC,
            "supplier": "PrintCo",
            "order": 300,
            "run_when": [{"state": "on_hold", "on_hold_reason": "awaiting_supplier"}],
            "description": "Printer vendor: two business days while we wait on them.",
        },
        [("PrintCo: fix in 2 days", "resolution", 20 * HOUR, office)],
        [{"percent": 100, "notify_team_manager": True}],
    )
    context.log("Service level demo: 2 calendars, 2 SLAs, an OLA and an underpinning contract.")
