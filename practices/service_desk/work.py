"""The agent's home page ("My work"): what is assigned to them, what their teams have not
picked up yet, and, for the people who lead teams, each team's backlog, counted over every
record type the practice apps declare (``PracticeConfig.work_queues``), with the blocks
other practices add (``home_panels``: targets breaching soon, approvals waiting).

One query per record type for the figures and one for the list of what is assigned to the
agent, whatever the numbers."""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.apps import apps
from django.db.models import Count, Q
from django.urls import reverse

from itsm.accounts.models import Team
from itsm.core.practices import WorkQueue, registry

MY_LIST_LENGTH = 10

#: figure -> the queue's filters that list what it counts
FILTERS = {
    "mine": {"assigned_to": "me", "open": "true"},
    "unassigned": {"assignment_group": "mine", "unassigned": "true", "open": "true"},
    "teams": {"assignment_group": "mine", "open": "true"},
}


@dataclass
class Figures:
    queue: WorkQueue
    counts: dict
    links: dict = field(default_factory=dict)


def _open(queue: WorkQueue, user):
    model = apps.get_model(queue.model)
    return model, model.objects.visible_to(user).filter(state__in=model.workflow.open)


def figures(user, teams: list[int]) -> list[Figures]:
    """Per record type: open ones assigned to ``user``, unassigned in their teams, open in
    their teams."""
    rows = []
    for queue in registry.work_queues:
        _, records = _open(queue, user)
        counts = records.aggregate(
            mine=Count("pk", filter=Q(assigned_to=user)),
            unassigned=Count("pk", filter=Q(assignment_group__in=teams, assigned_to=None)),
            teams=Count("pk", filter=Q(assignment_group__in=teams)),
        )
        base = reverse(queue.url_name)
        links = {key: f"{base}?{urlencode(query)}" for key, query in FILTERS.items()}
        rows.append(Figures(queue, counts, links))
    return rows


def assigned_to_me(user, limit: int = MY_LIST_LENGTH) -> list:
    """The open records assigned to ``user``, most recently changed first, every type."""
    found = []
    for queue in registry.work_queues:
        model, records = _open(queue, user)
        for record in records.filter(assigned_to=user).order_by("-updated_at")[:limit]:
            record.kind_label = model._meta.verbose_name.capitalize()
            found.append(record)
    found.sort(key=lambda r: r.updated_at, reverse=True)
    return found[:limit]


def backlog(user) -> dict:
    """For a team lead: per team they manage (a manager with none: every team they are
    in), the open records of every type and how many of them nobody has picked up."""
    teams = list(Team.objects.filter(manager=user, active=True).order_by("name"))
    if not teams and user.has_perm("core.lead_teams"):
        teams = list(user.teams.filter(active=True).order_by("name"))
    if not teams:
        return {}
    ids = [t.pk for t in teams]
    table = {team.pk: {"team": team, "cells": []} for team in teams}
    columns = []
    for queue in registry.work_queues:
        _, records = _open(queue, user)
        counted = {
            row["assignment_group"]: row
            for row in records.filter(assignment_group__in=ids)
            .values("assignment_group")
            .annotate(open=Count("pk"), unassigned=Count("pk", filter=Q(assigned_to=None)))
        }
        base = reverse(queue.url_name)
        columns.append(queue.label)
        for team in teams:
            row = counted.get(team.pk, {"open": 0, "unassigned": 0})
            link = f"{base}?{urlencode({'assignment_group': team.pk, 'open': 'true'})}"
            table[team.pk]["cells"].append({**row, "link": link})
    return {"columns": columns, "rows": list(table.values())}


def context(request) -> dict:
    user = request.user
    teams = sorted(user.team_ids)
    panels = []
    for panel in registry.home_panels:
        shown = panel.context_for(request)
        if shown is not None:
            panels.append({"template": panel.template, **shown})
    return {
        "figures": figures(user, teams),
        "mine": assigned_to_me(user),
        "panels": panels,
        "backlog": backlog(user),
        "has_teams": bool(teams),
    }
