"""The incident lifecycle: new → in progress ⇄ on hold → resolved → closed (or cancelled)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from itsm.core.workflow import Transition, Workflow, staff_only
from itsm.core.writes import Notice


class IncidentState(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


IncidentState.OPEN = frozenset(
    {IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD}
)
S = IncidentState


def reopen_window_open(incident) -> bool:
    if incident.resolved_at is None:
        return True
    return timezone.now() < incident.resolved_at + timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)


def caller_or_staff(incident, user) -> bool:
    return user is None or user.is_agent or incident.caller_id == user.pk


def caller_within_window(incident, user) -> bool:
    if user is None or user.is_agent:
        return True
    return incident.caller_id == user.pk and reopen_window_open(incident)


def children_closed_first(incident, user):
    # Only cancelling a parent with open children needs attention; resolving cascades.
    if incident.pk and incident.children.filter(state__in=IncidentState.OPEN).exists():
        return gettext("Cancel or resolve the open child incidents first.")
    return None


def mark_resolved(incident, user):
    incident.resolved_at = timezone.now()
    incident.on_hold_reason = ""


def mark_closed(incident, user):
    incident.closed_at = timezone.now()


def mark_in_progress(incident, user):
    incident.on_hold_reason = ""


def mark_reopened(incident, user):
    incident.on_hold_reason = ""
    incident.resolved_at = None
    incident.resolution_code = ""
    incident.resolution_notes = ""
    incident.reopen_count += 1


def mark_cancelled(incident, user):
    incident.closed_at = timezone.now()
    incident.on_hold_reason = ""


OPEN = frozenset(IncidentState.OPEN)


def _not_by_caller(incident, actor) -> bool:
    return (actor.pk if actor is not None else None) != incident.caller_id


RESOLVED_NOTICE = Notice(
    to=lambda incident, actor: [incident.caller],
    subject=lambda incident, actor: (
        gettext("%(number)s resolved: %(title)s")
        % {"number": incident.number, "title": incident.title}
    ),
    body=lambda incident, actor: (
        ngettext(
            "Resolution: %(notes)s\n\nIf this did not fix it, reopen the ticket within "
            "%(days)s day; otherwise it closes automatically.",
            "Resolution: %(notes)s\n\nIf this did not fix it, reopen the ticket within "
            "%(days)s days; otherwise it closes automatically.",
            settings.INCIDENT_AUTO_CLOSE_DAYS,
        )
        % {"notes": incident.resolution_notes, "days": settings.INCIDENT_AUTO_CLOSE_DAYS}
    ),
    when=_not_by_caller,
)
AWAITING_CALLER_NOTICE = Notice(
    to=lambda incident, actor: [incident.caller],
    subject=lambda incident, actor: (
        gettext("We need your input on %(number)s: %(title)s")
        % {"number": incident.number, "title": incident.title}
    ),
    body=lambda incident, actor: (
        gettext(
            "%(number)s is waiting for you. Please answer the latest comment in the "
            "portal so that we can go on."
        )
        % {"number": incident.number}
    ),
    when=lambda incident, actor: (
        incident.on_hold_reason == "awaiting_caller" and _not_by_caller(incident, actor)
    ),
)
REOPENED_NOTICE = Notice(
    to=lambda incident, actor: [incident.assigned_to],
    subject=lambda incident, actor: (
        gettext("%(number)s reopened by the caller") % {"number": incident.number}
    ),
    body=lambda incident, actor: (
        gettext("%(actor)s reopened %(number)s: %(title)s")
        % {"actor": actor, "number": incident.number, "title": incident.title}
    ),
    when=lambda incident, actor: not _not_by_caller(incident, actor),
)

incident_workflow = Workflow(
    states=IncidentState.choices,
    initial=S.NEW,
    open_states=IncidentState.OPEN,
    transitions=[
        Transition(
            frozenset({S.NEW, S.ON_HOLD}),
            S.IN_PROGRESS,
            _("Start work"),
            effects=(mark_in_progress,),
            style="primary",
        ),
        Transition(
            frozenset({S.NEW, S.IN_PROGRESS}),
            S.ON_HOLD,
            _("Put on hold"),
            requires=("on_hold_reason",),
            notices=(AWAITING_CALLER_NOTICE,),
        ),
        Transition(
            OPEN,
            S.RESOLVED,
            _("Resolve"),
            requires=("resolution_code", "resolution_notes"),
            effects=(mark_resolved,),
            notices=(RESOLVED_NOTICE,),
            style="primary",
        ),
        Transition(
            frozenset({S.RESOLVED}),
            S.IN_PROGRESS,
            _("Reopen"),
            allowed=caller_within_window,
            effects=(mark_reopened,),
            notices=(REOPENED_NOTICE,),
        ),
        Transition(
            frozenset({S.RESOLVED}),
            S.CLOSED,
            _("Close"),
            allowed=caller_or_staff,
            effects=(mark_closed,),
        ),
        Transition(
            OPEN,
            S.CANCELLED,
            _("Cancel"),
            allowed=staff_only,
            guards=(children_closed_first,),
            effects=(mark_cancelled,),
            style="danger",
        ),
        Transition(
            frozenset({S.NEW}),
            S.CANCELLED,
            _("Withdraw"),
            allowed=lambda incident, user: (
                user is not None and not user.is_agent and incident.caller_id == user.pk
            ),
            guards=(children_closed_first,),
            effects=(mark_cancelled,),
        ),
    ],
)
