"""Incident management operations. API views, screens, e-mail intake, event ingestion and
commands all go through these functions; each runs in one transaction."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from itsm.core import services as core
from itsm.core import writes
from itsm.core.i18n import said
from itsm.core.models import JournalEntry

from .models import Category, Channel, Incident, Level, OnHoldReason, PriorityRule
from .workflows import IncidentState

User = get_user_model()
logger = logging.getLogger(__name__)

#: Fields an agent may change with ``update_incident`` (besides ``state``).
EDITABLE_FIELDS = (
    "title",
    "description",
    "caller",
    "category",
    "subcategory",
    "service",
    "configuration_items",
    "impact",
    "urgency",
    "assignment_group",
    "assigned_to",
    "on_hold_reason",
    "resolution_code",
    "resolution_notes",
    "major",
    "parent",
)
#: What an end user may give when reporting an issue (how urgent it is for them too; the
#: impact, and so the priority's other half, is the service desk's to judge).
END_USER_CREATE_FIELDS = (
    "title",
    "description",
    "category",
    "subcategory",
    "service",
    "configuration_items",
    "urgency",
)
#: How many files one report may carry.
MAX_REPORT_FILES = 5


def priority_for(impact: int, urgency: int) -> int:
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).first()
    if rule is not None:
        return rule.priority
    # The default matrix, should the configured one lack a cell.
    return min(5, impact + urgency - 1)


def _state_word(state: str) -> str:
    """A state as a word in a sentence ("resolved"): its label, in lower case."""
    try:
        return str(IncidentState(state).label).lower()
    except ValueError:
        return state


def _validate(incident: Incident, changed: set[str] | None = None) -> None:
    """Check the incident's fields. ``changed`` limits the checks to what an update touched
    (None: everything, for a new incident): a state change never fails because a team's
    membership changed since the incident was assigned."""

    def touched(*names) -> bool:
        return changed is None or any(name in changed for name in names)

    errors = {}
    if touched("caller") and not incident.caller_id:
        errors["caller"] = gettext("Every incident has a caller: the person affected.")
    if touched("title") and not (incident.title or "").strip():
        errors["title"] = gettext("Give the incident a short title.")
    if touched("impact") and incident.impact not in Level.values:
        errors["impact"] = gettext("Impact is 1 (high), 2 (medium) or 3 (low).")
    if touched("urgency") and incident.urgency not in Level.values:
        errors["urgency"] = gettext("Urgency is 1 (high), 2 (medium) or 3 (low).")
    if touched("category", "subcategory"):
        if incident.subcategory_id:
            if not incident.category_id:
                errors["subcategory"] = gettext("Choose a category first.")
            elif incident.subcategory.parent_id != incident.category_id:
                errors["subcategory"] = gettext("'%(subcategory)s' is not in %(category)s.") % {
                    "subcategory": incident.subcategory.name,
                    "category": incident.category,
                }
        if incident.category_id and incident.category.parent_id:
            errors["category"] = gettext("Choose a top-level category; this one is a subcategory.")
    writes.check_assignment(incident, changed, errors)
    if touched("parent") and incident.parent_id:
        parent = Incident.objects.select_for_update().get(pk=incident.parent_id)
        if incident.pk and parent.pk == incident.pk:
            errors["parent"] = gettext("An incident cannot be its own parent.")
        elif parent.parent_id:
            errors["parent"] = gettext("%(number)s is itself a child incident.") % {
                "number": parent.number
            }
        elif parent.state not in IncidentState.OPEN:
            errors["parent"] = gettext("%(number)s is %(state)s; choose an open incident.") % {
                "number": parent.number,
                "state": _state_word(parent.state),
            }
        elif incident.pk and incident.children.exists():
            errors["parent"] = gettext(
                "This incident has children of its own; it cannot be a child."
            )
    if changed is not None:
        if incident.state == IncidentState.ON_HOLD and not incident.on_hold_reason:
            errors.setdefault("on_hold_reason", gettext("An incident on hold needs a reason."))
        if incident.state != IncidentState.ON_HOLD and incident.on_hold_reason:
            errors.setdefault("on_hold_reason", gettext("Only an incident on hold has a reason."))
    writes.refuse(errors)


def _clean(data: dict, actor) -> dict:
    for name in ("impact", "urgency"):
        if name in data and isinstance(data[name], str) and data[name].isdigit():
            data[name] = int(data[name])
    return data


def _initial(actor, data: dict, options: dict) -> dict:
    """An end user is always the caller of what they report; staff report for someone."""
    channel = options.get("channel", Channel.AGENT)
    caller = data.get("caller") if actor.is_agent else actor
    return {
        "caller": caller or actor,
        "opened_by": actor,
        "channel": channel if channel in Channel.values else Channel.AGENT,
        "state": IncidentState.NEW,
    }


def _derive(incident: Incident, actor, change: writes.Write) -> None:
    before = change.before
    declared = incident.major and (before is None or not before.major)
    if declared and actor is not None and not actor.has_perm("incidents.declare_major_incident"):
        writes.refuse(
            {"major": gettext("Declaring a major incident needs the right to declare one.")}
        )
    if before is not None:
        writes.unassign_outside_group(incident, actor, change)
        if incident.assignment_group_id != before.assignment_group_id and (
            before.assignment_group_id is not None
        ):
            incident.reassignment_count += 1
        if (
            change.moved(source=IncidentState.NEW)
            and writes.is_staff(actor)
            and incident.first_response_at is None
        ):
            incident.first_response_at = timezone.now()
    if before is None or (incident.impact, incident.urgency) != (before.impact, before.urgency):
        if incident.impact in Level.values and incident.urgency in Level.values:
            incident.priority = priority_for(incident.impact, incident.urgency)


def _guard(incident: Incident, actor) -> None:
    """An end user changes only the state of an incident they are the caller of."""
    if not writes.is_staff(actor) and incident.caller_id != actor.pk:
        raise PermissionDenied


def _after(incident: Incident, actor, change: writes.Write) -> None:
    if incident.major and (change.created or not change.before.major):
        _announce_major(incident, actor)
    if change.created and actor.pk != incident.caller_id:
        core.notify(
            [incident.caller],
            lambda: (
                gettext("%(number)s logged: %(title)s")
                % {"number": incident.number, "title": incident.title}
            ),
            lambda: (
                gettext("We have logged %(number)s for you and will keep you informed.")
                % {"number": incident.number}
            ),
            incident,
        )
    if change.moved(to=IncidentState.RESOLVED):
        _resolve_children(incident, actor)


SPEC = writes.WriteSpec(
    model=Incident,
    create=writes.Access(staff=EDITABLE_FIELDS, end_user=(*END_USER_CREATE_FIELDS, "caller")),
    update=writes.Access(staff=(*EDITABLE_FIELDS, "state"), end_user=("state",)),
    m2m=("configuration_items",),
    quiet=("reassignment_count", "reopen_count", "first_response_at", "resolved_at", "closed_at"),
    refused=_("This field cannot be changed."),
    clean=_clean,
    initial=_initial,
    derive=_derive,
    validate=_validate,
    guard=_guard,
    created_data=lambda incident: {"channel": incident.channel, "priority": incident.priority},
    after=_after,
    on_assign=writes.Notice(
        to=lambda incident, actor: [incident.assigned_to],
        subject=lambda incident, actor: (
            gettext("%(number)s assigned to you: %(title)s")
            % {"number": incident.number, "title": incident.title}
        ),
        body=lambda incident, actor: (
            gettext("%(actor)s assigned %(number)s (priority %(priority)s) to you.")
            % {
                "actor": actor or gettext("The service desk"),
                "number": incident.number,
                "priority": incident.priority,
            }
            + f"\n\n{incident.description}"
        ),
    ),
)


@transaction.atomic
def open_incident(actor, data: dict, channel: str = Channel.AGENT, files=()) -> Incident:
    """Log a new incident. End users are always the caller of what they report. ``files``
    are attached to it in the same transaction: one that is refused (empty, too big, one
    too many) refuses the whole report, naming the file, and nothing is saved."""
    files = [f for f in files if f is not None]
    if len(files) > MAX_REPORT_FILES:
        raise ValidationError(
            {
                "attachments": gettext("Attach at most %(max)s files; you chose %(count)s.")
                % {"max": MAX_REPORT_FILES, "count": len(files)}
            }
        )
    empty = [f.name for f in files if not f.size]
    if empty:
        raise ValidationError(
            {"attachments": [gettext("%(name)s is empty.") % {"name": name} for name in empty]}
        )
    incident = writes.open(SPEC, actor, data, channel=channel)
    for uploaded in files:
        try:
            core.add_attachment(incident, actor, uploaded)
        except ValidationError as error:
            name = uploaded.name.rsplit("/", 1)[-1]
            raise ValidationError(
                {"attachments": [f"{name}: {message}" for message in error.messages]}
            ) from None
    return incident


def update_incident(
    incident: Incident, actor, data: dict, expected_version: int | None = None
) -> Incident:
    """Change fields and/or the state in one step, checked by the workflow.

    ``data`` holds model values (instances for relations). With ``expected_version`` the
    update is refused with ``StaleVersion`` if someone else changed the incident first."""
    return writes.change(SPEC, incident, actor, data, expected_version)


def _resolve_children(incident: Incident, actor) -> None:
    for child in incident.children.filter(state__in=IncidentState.OPEN).order_by("pk"):
        try:
            with transaction.atomic():
                update_incident(
                    child,
                    actor,
                    {
                        "state": IncidentState.RESOLVED,
                        "resolution_code": incident.resolution_code,
                        "resolution_notes": gettext("Resolved with parent %(number)s: %(notes)s")
                        % {"number": incident.number, "notes": incident.resolution_notes},
                    },
                )
        except ValidationError as error:
            # One child that cannot be resolved does not block the parent; say why.
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            core.write_journal(
                incident,
                JournalEntry.Kind.WORK_NOTE,
                actor,
                body=said(
                    gettext_noop(
                        "Could not resolve child %(number)s with this incident: %(problems)s"
                    ),
                    number=child.number,
                    problems=problems,
                ),
                internal=True,
            )


def _announce_major(incident: Incident, actor) -> None:
    """A major incident notifies the managers of the teams concerned, or all team managers."""
    teams = Q()
    if incident.assignment_group_id:
        teams |= Q(managed_teams=incident.assignment_group_id)
    if incident.service_id and incident.service.owner_team_id:
        teams |= Q(managed_teams=incident.service.owner_team_id)
    if not teams:
        teams = Q(managed_teams__isnull=False)
    managers = User.objects.filter(teams, is_active=True).distinct().order_by("pk")
    core.write_journal(
        incident,
        JournalEntry.Kind.FIELDS,
        actor,
        body=said(gettext_noop("Declared a major incident.")),
        internal=True,
    )
    core.notify(
        managers,
        lambda: (
            gettext("MAJOR INCIDENT %(number)s: %(title)s")
            % {"number": incident.number, "title": incident.title}
        ),
        lambda: (
            gettext("%(actor)s declared %(number)s a major incident.")
            % {"actor": actor, "number": incident.number}
            + f"\n\n{incident.description}"
        ),
        incident,
    )


@transaction.atomic
def comment(incident: Incident, actor, body: str, internal: bool = False) -> JournalEntry:
    """A public reply or an internal work note. End users may only comment on their own."""
    _check_caller_may_add(incident, actor)
    entry = core.add_comment(incident, actor, body, internal)
    Incident.objects.filter(pk=incident.pk).update(updated_at=entry.created_at)
    if internal:
        return entry
    if actor.is_agent:
        if incident.first_response_at is None:
            Incident.objects.filter(pk=incident.pk, first_response_at__isnull=True).update(
                first_response_at=entry.created_at
            )
            incident.first_response_at = entry.created_at
            core.announce(incident, actor, {"first_response_at": [None, entry.created_at]})
        if actor.pk != incident.caller_id:
            core.notify(
                [incident.caller],
                lambda: (
                    gettext("Update on %(number)s: %(title)s")
                    % {"number": incident.number, "title": incident.title}
                ),
                lambda: gettext("%(actor)s wrote:") % {"actor": actor} + f"\n\n{entry.body}",
                incident,
            )
    else:
        watchers = [incident.assigned_to] if incident.assigned_to_id else []
        core.notify(
            watchers,
            lambda: (
                gettext("%(caller)s commented on %(number)s")
                % {"caller": incident.caller, "number": incident.number}
            ),
            entry.body,
            incident,
        )
        if (
            incident.state == IncidentState.ON_HOLD
            and incident.on_hold_reason == OnHoldReason.AWAITING_CALLER
            and actor.pk == incident.caller_id
        ):
            # The answer the service desk waited for: the work (and its SLA) goes on.
            update_incident(incident, None, {"state": IncidentState.IN_PROGRESS})
    return entry


@transaction.atomic
def attach(incident: Incident, actor, uploaded_file, internal: bool = False):
    _check_caller_may_add(incident, actor)
    return core.add_attachment(incident, actor, uploaded_file, internal)


def _check_caller_may_add(incident: Incident, actor) -> None:
    """End users add comments and files to their own incidents while they are not over."""
    if actor.is_agent:
        return
    if incident.caller_id != actor.pk:
        raise PermissionDenied
    if incident.state in (IncidentState.CLOSED, IncidentState.CANCELLED):
        raise ValidationError(
            {
                "body": gettext("%(number)s is %(state)s; please report a new issue.")
                % {"number": incident.number, "state": _state_word(incident.state)}
            }
        )


#: How many incidents one bulk change may touch.
BULK_LIMIT = 200


@transaction.atomic
def bulk_update(actor, numbers: list[str], data: dict) -> list[Incident]:
    """The same change to several incidents, all or none: if one cannot take it, nothing
    changes and the error names each incident that refused, and why."""
    if actor is None or not actor.is_agent:
        raise PermissionDenied
    numbers = sorted(set(numbers))
    if not numbers:
        raise ValidationError({"numbers": _("Select the incidents to change.")})
    if len(numbers) > BULK_LIMIT:
        raise ValidationError(
            {"numbers": gettext("At most %(max)s incidents at a time.") % {"max": BULK_LIMIT}}
        )
    if not data:
        raise ValidationError({"__all__": _("Choose what to change.")})
    incidents = list(
        Incident.objects.visible_to(actor).filter(number__in=numbers).order_by("number")
    )
    missing = sorted(set(numbers) - {i.number for i in incidents})
    if missing:
        raise ValidationError(
            {
                "numbers": gettext("No such incidents: %(numbers)s.")
                % {"numbers": ", ".join(missing)}
            }
        )
    refused = []
    updated = []
    for incident in incidents:
        incident.refresh_from_db()  # an earlier one may have changed it (parent → children)
        if data.get("state") == incident.state and incident.state == IncidentState.RESOLVED:
            updated.append(incident)  # resolved with its parent already: keep that resolution
            continue
        try:
            with transaction.atomic():
                updated.append(update_incident(incident, actor, data))
        except ValidationError as error:
            reasons = "; ".join(
                f"{field.replace('_', ' ')}: {' '.join(messages)}"
                if field not in ("__all__", "non_field_errors")
                else " ".join(messages)
                for field, messages in error.message_dict.items()
            )
            refused.append(f"{incident.number}: {reasons}")
    if refused:
        raise ValidationError({"numbers": refused})
    return updated


def close_resolved(now=None, batch: int = 500) -> int:
    """Close incidents resolved longer ago than the reopen window (run by Celery beat)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    closed = 0
    due = Incident.objects.filter(state=IncidentState.RESOLVED, resolved_at__lte=cutoff)
    after = None  # keyset: one that cannot close never blocks those behind it
    while True:
        page = due.order_by("resolved_at", "pk")
        if after is not None:
            page = page.filter(
                Q(resolved_at__gt=after[0]) | Q(resolved_at=after[0], pk__gt=after[1])
            )
        rows = list(page.values_list("resolved_at", "pk")[:batch])
        if not rows:
            return closed
        for resolved_at, pk in rows:
            after = (resolved_at, pk)
            try:
                with transaction.atomic():
                    # Re-check under the row lock: it may have been reopened meanwhile.
                    incident = due.select_for_update().filter(pk=pk).first()
                    if incident is None:
                        continue
                    update_incident(incident, None, {"state": IncidentState.CLOSED})
                closed += 1
            except ValidationError as error:
                logger.warning("Could not close %s automatically: %s", pk, error.messages)
                with transaction.atomic():
                    core.write_journal(
                        Incident.objects.get(pk=pk),
                        JournalEntry.Kind.WORK_NOTE,
                        None,
                        body=said(
                            gettext_noop("Could not close automatically: %(reasons)s"),
                            reasons=" ".join(error.messages),
                        ),
                        internal=True,
                    )


def categories():
    return Category.objects.filter(active=True).select_related("parent")


def reported_by(user):
    """The incidents ``user`` reported (their "my issues" on the portal), newest first."""
    return Incident.objects.visible_to(user).filter(caller=user).order_by("-created_at")
