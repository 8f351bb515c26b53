"""The kernel's pickers: people (a caller, a requester…), agents (an assignee, narrowed to
a team's members), teams (assignment groups) and locations. See ``itsm.core.lookups``."""

from itsm.core.lookups import Lookup, Param, register

from .models import Location, Team, User


def person_detail(person) -> str:
    return " · ".join(
        part for part in (person.email, getattr(person.organization, "name", "")) if part
    )


def person_badge(person) -> str:
    return "VIP" if person.vip else ""


PERSON_SEARCH = ("username", "first_name", "last_name", "email")

people = register(
    Lookup(
        key="people",
        queryset=lambda: User.objects.filter(is_active=True),
        search=PERSON_SEARCH,
        value="username",
        detail=person_detail,
        badge=person_badge,
        ordering=("first_name", "last_name", "username"),
        select=("organization",),
    )
)

agents = register(
    Lookup(
        key="agents",
        # Who may be assigned: active members of a team (the assignee belongs to the
        # record's group; the services refuse anyone else).
        queryset=lambda: User.objects.filter(is_active=True, teams__isnull=False).distinct(),
        search=PERSON_SEARCH,
        value="username",
        detail=lambda person: ", ".join(team.name for team in person.teams.all()),
        badge=person_badge,
        params={
            "team": Param(
                filter=lambda queryset, team: queryset.filter(teams=team),
                values=lambda person: [team.pk for team in person.teams.all()],
            )
        },
        ordering=("first_name", "last_name", "username"),
        prefetch=("teams",),
    )
)

teams = register(
    Lookup(
        key="teams",
        queryset=lambda: Team.objects.filter(active=True),
        search=("name",),
        detail=lambda team: team.email,
        ordering=("name",),
    )
)

locations = register(
    Lookup(
        key="locations",
        queryset=lambda: Location.objects.all(),
        search=("name", "address"),
        detail=lambda location: location.time_zone,
        ordering=("name",),
    )
)
