"""``manage.py load_demo``: demo accounts, teams and each practice's demo records.

The kernel knows no practice. It creates the people (accounts, organizations, teams,
locations), then imports the ``demo`` module each practice app declares in its ``PracticeConfig``, in
``INSTALLED_APPS`` order, and calls its ``load(context)`` with a :class:`DemoContext`.

Running it again changes nothing: accounts and teams are looked up by name and only
created when missing, and each app's ``load`` must be idempotent as well.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

from itsm.accounts.models import Location, Organization, Role, Team, User
from itsm.core.practices import registry

#: The password of every demo account.
DEMO_PASSWORD = "demo"  # noqa: S105 (documented demo password)
EMAIL_DOMAIN = "example.com"

ORGANIZATIONS = {
    "Acme Corp": "The demo customer: every end user works here.",
    "Example IT": "The IT department that runs the service desk.",
}

LOCATIONS = {
    "Berlin HQ": ("Friedrichstrasse 1, 10117 Berlin", "Europe/Berlin"),
    "London Office": ("1 King William Street, London EC4N 7AR", "Europe/London"),
    "New York Office": ("350 Fifth Avenue, New York, NY 10118", "America/New_York"),
}

# username: (first name, last name, role, organization, location, extra fields)
USERS = {
    "admin": ("Ada", "Admin", Role.ADMINISTRATOR, "Example IT", "Berlin HQ",
              {"is_superuser": True, "is_staff": True}),
    "agent": ("Alex", "Agent", Role.AGENT, "Example IT", "Berlin HQ", {}),
    "manager": ("Morgan", "Manager", Role.MANAGER, "Example IT", "Berlin HQ", {}),
    "sam": ("Sam", "Support", Role.AGENT, "Example IT", "London Office", {}),
    "nora": ("Nora", "Network", Role.MANAGER, "Example IT", "Berlin HQ", {}),
    "nils": ("Nils", "Nordberg", Role.AGENT, "Example IT", "Berlin HQ", {}),
    "priya": ("Priya", "Patel", Role.MANAGER, "Example IT", "London Office", {}),
    "paul": ("Paul", "Porter", Role.AGENT, "Example IT", "New York Office", {}),
    "chris": ("Chris", "Chang", Role.CHANGE_MANAGER, "Example IT", "Berlin HQ", {}),
    "alice": ("Alice", "Anders", Role.END_USER, "Acme Corp", "Berlin HQ", {}),
    "bob": ("Bob", "Brown", Role.END_USER, "Acme Corp", "London Office", {}),
    "carol": ("Carol", "Clark", Role.END_USER, "Acme Corp", "New York Office",
              {"vip": True, "phone": "+1 212 555 0142"}),
    "dave": ("Dave", "Dunn", Role.END_USER, "Acme Corp", "Berlin HQ", {}),
}  # fmt: skip

# name: (description, manager, members)
TEAMS = {
    "Service Desk": (
        "First line: takes every call, solves what it can, routes the rest.",
        "manager",
        ("agent", "manager", "sam"),
    ),
    "Network": ("LAN, Wi-Fi, VPN and firewalls.", "nora", ("nora", "nils")),
    "Applications": ("E-mail, office software and the ERP.", "priya", ("priya", "paul")),
    "Change Advisory Board": (
        "Advises on and authorises normal changes of moderate and high risk.",
        "chris",
        ("chris", "manager", "nora", "priya"),
    ),
    "Emergency Change Authority": (
        "Authorises emergency changes at short notice: any one member.",
        "chris",
        ("chris", "nora"),
    ),
}


@dataclass
class DemoContext:
    """What the kernel hands to each app's ``demo.load(context)``."""

    users: dict[str, User]
    teams: dict[str, Team]
    organizations: dict[str, Organization]
    locations: dict[str, Location]
    #: Apps loaded earlier may leave objects here for later ones (e.g. services by name).
    shared: dict = field(default_factory=dict)
    #: ``log("…")`` prints a line of progress.
    log: Callable[[str], None] = print

    def user(self, username: str) -> User:
        return self.users[username]

    def team(self, name: str) -> Team:
        return self.teams[name]


def load_people(log=print) -> DemoContext:
    """Accounts, organizations, locations and teams; only what is missing is created."""
    organizations = {}
    for name, description in ORGANIZATIONS.items():
        organizations[name], _ = Organization.objects.get_or_create(
            name=name, defaults={"description": description}
        )
    locations = {}
    for name, (address, time_zone) in LOCATIONS.items():
        locations[name], _ = Location.objects.get_or_create(
            name=name, defaults={"address": address, "time_zone": time_zone}
        )
    users = {}
    created_users = []
    for username, (first, last, role, org, location, extra) in USERS.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@{EMAIL_DOMAIN}",
                role=role,
                organization=organizations[org],
                location=locations[location],
                time_zone=locations[location].time_zone,
                **extra,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            created_users.append(username)
        users[username] = user
    teams = {}
    for name, (description, manager, members) in TEAMS.items():
        team, created = Team.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "manager": users[manager],
                "email": f"{name.lower().replace(' ', '-')}@{EMAIL_DOMAIN}",
            },
        )
        if created:
            team.members.add(*(users[m] for m in members))
        teams[name] = team
    if created_users:
        log(f"Created accounts: {', '.join(created_users)} (password '{DEMO_PASSWORD}').")
    else:
        log("Demo accounts already exist.")
    return DemoContext(
        users=users, teams=teams, organizations=organizations, locations=locations, log=log
    )


def demo_modules():
    """Each practice app's declared ``demo`` module (``PracticeConfig.demo``), in
    ``INSTALLED_APPS`` order."""
    for app_config, name in registry.demo_modules():
        yield app_config, import_module(name)


class Command(BaseCommand):
    help = "Load demo accounts, teams and records (idempotent: a second run changes nothing)."

    def handle(self, *args, **options):
        def log(message: str) -> None:
            self.stdout.write(message)

        with transaction.atomic():
            context = load_people(log)
            for app_config, module in demo_modules():
                log(f"Loading demo data of {app_config.label}…")
                with transaction.atomic():
                    module.load(context)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
