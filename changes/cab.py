"""Change advisory board meetings: members and a date, an agenda built from a filter
(changes in authorise waiting for a CAB level, planned to start in the meeting's agenda
range) and by hand, gone through item by item at the workbench (a timer per item), each
approved or rejected with a mandatory comment (the CAB level of the change decided through
``changes.approvals``, as the member who recorded it) or deferred; the decisions written
into the minutes and on each change; the minutes sent to the attendees once.

Change managers create meetings and build their agendas; the chair, the members and the
change managers record decisions."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from itsm.core import services as core
from itsm.core.approvals import Decision
from itsm.core.i18n import said
from itsm.core.models import JournalEntry

from . import approvals, risk
from .models import AgendaItem, ApprovalLevel, CabMeeting, Change, ChangeApproval
from .templates import is_change_manager
from .workflows import ChangeState

Item = AgendaItem.Decision


class Verdict(models.TextChoices):
    """What the board decides on an agenda item."""

    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    DEFER = "defer", _("Defer")


#: A decision in a journal line ("CAB 12 May: approved."), lower case.
DECIDED = {
    Item.APPROVED: gettext_noop("approved"),
    Item.REJECTED: gettext_noop("rejected"),
    Item.DEFERRED: gettext_noop("deferred"),
}


MEETING_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "location",
    "chair",
    "agenda_from",
    "agenda_to",
    "minutes",
)


def _require_manager(actor) -> None:
    if not is_change_manager(actor):
        raise PermissionDenied


def may_decide(meeting: CabMeeting, user) -> bool:
    """The chair, a member or a change manager records the board's decisions."""
    return bool(
        user.is_authenticated
        and user.is_agent
        and (
            is_change_manager(user)
            or meeting.chair_id == user.pk
            or meeting.members.filter(pk=user.pk).exists()
        )
    )


def _check(meeting: CabMeeting) -> None:
    errors = {}
    if not (meeting.title or "").strip():
        errors["title"] = gettext("Give the meeting a title.")
    if meeting.agenda_from and meeting.agenda_to and meeting.agenda_to < meeting.agenda_from:
        errors["agenda_to"] = gettext("The agenda's range ends after it starts.")
    try:
        meeting.clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_meeting(actor, data: dict) -> CabMeeting:
    _require_manager(actor)
    data = dict(data)
    members = data.pop("members", [])
    meeting = CabMeeting(**{k: v for k, v in data.items() if k in MEETING_FIELDS})
    if meeting.chair_id is None:
        meeting.chair = actor
    _check(meeting)
    meeting.save()
    meeting.members.set(members)
    return meeting


@transaction.atomic
def update_meeting(meeting: CabMeeting, actor, data: dict) -> CabMeeting:
    """Change a meeting's fields, its members, or its minutes (editable until sent)."""
    _require_manager(actor)
    meeting = CabMeeting.objects.select_for_update().get(pk=meeting.pk)
    data = dict(data)
    members = data.pop("members", None)
    if "minutes" in data and meeting.minutes_sent_at and data["minutes"] != meeting.minutes:
        raise ValidationError({"minutes": _("The minutes were sent; they are no longer edited.")})
    for name, value in data.items():
        if name in MEETING_FIELDS:
            setattr(meeting, name, value)
    _check(meeting)
    meeting.save()
    if members is not None:
        meeting.members.set(members)
    return meeting


# The agenda --------------------------------------------------------------------------------


def awaiting_cab(date_from=None, date_to=None):
    """Changes in authorise whose current level is the CAB's, planned to start in
    [date_from, date_to] (either end open), earliest first."""
    waiting = ChangeApproval.objects.filter(
        kind=ApprovalLevel.Kind.CAB, decision=Decision.PENDING
    ).values("change_id")
    changes = Change.objects.filter(state=ChangeState.AUTHORISE, pk__in=waiting)
    if date_from:
        changes = changes.filter(planned_start__date__gte=date_from)
    if date_to:
        changes = changes.filter(planned_start__date__lte=date_to)
    return changes.order_by("planned_start", "number")


def _add(meeting: CabMeeting, change: Change, order: int, actor) -> AgendaItem:
    item = AgendaItem.objects.create(meeting=meeting, change=change, order=order)
    core.write_journal(
        change,
        JournalEntry.Kind.APPROVAL,
        actor,
        body=said(
            gettext_noop("On the agenda of %(meeting)s (%(at)s)."),
            meeting=meeting.title,
            at=f"{timezone.localtime(meeting.starts_at):%Y-%m-%d %H:%M}",
        ),
        internal=True,
    )
    Change.objects.filter(pk=change.pk, cab_date__isnull=True).update(
        cab_date=timezone.localtime(meeting.starts_at).date()
    )
    return item


def _next_order(meeting) -> int:
    return (meeting.items.aggregate(top=Max("order"))["top"] or 0) + 1


@transaction.atomic
def build_agenda(meeting: CabMeeting, actor) -> list[AgendaItem]:
    """Add the changes awaiting the CAB in the meeting's agenda range that are not on it
    yet (nor pending on another meeting's agenda), after what is already there."""
    _require_manager(actor)
    meeting = CabMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == CabMeeting.Status.COMPLETED:
        raise ValidationError({"status": _("The meeting is over; its agenda is closed.")})
    elsewhere = AgendaItem.objects.filter(decision=Item.PENDING).exclude(
        meeting__status=CabMeeting.Status.COMPLETED
    )
    candidates = (
        awaiting_cab(meeting.agenda_from, meeting.agenda_to)
        .exclude(agenda_items__meeting=meeting)
        .exclude(pk__in=elsewhere.values("change_id"))
    )
    order = _next_order(meeting)
    added = []
    for change in candidates:
        added.append(_add(meeting, change, order, actor))
        order += 1
    return added


@transaction.atomic
def add_item(meeting: CabMeeting, change: Change, actor) -> AgendaItem:
    _require_manager(actor)
    meeting = CabMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.items.filter(change=change).exists():
        raise ValidationError(
            {"change": gettext("%(number)s is already on the agenda.") % {"number": change.number}}
        )
    if not change.is_open:
        raise ValidationError(
            {
                "change": gettext("%(number)s is %(state)s.")
                % {"number": change.number, "state": change.state}
            }
        )
    return _add(meeting, change, _next_order(meeting), actor)


@transaction.atomic
def remove_item(item: AgendaItem, actor) -> None:
    _require_manager(actor)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if item.decision != Item.PENDING:
        raise ValidationError({"decision": _("A decided item stays in the minutes.")})
    item.delete()


@transaction.atomic
def move_item(item: AgendaItem, actor, step: int) -> None:
    """Move an item one place up (``step=-1``) or down (``+1``) the agenda."""
    _require_manager(actor)
    items = list(
        AgendaItem.objects.select_for_update()
        .filter(meeting_id=item.meeting_id)
        .order_by("order", "pk")
    )
    index = next(i for i, row in enumerate(items) if row.pk == item.pk)
    other = index + (1 if step > 0 else -1)
    if not 0 <= other < len(items):
        return
    items[index], items[other] = items[other], items[index]
    for order, row in enumerate(items, start=1):
        if row.order != order:
            row.order = order
            row.save(update_fields=["order"])


@transaction.atomic
def start_item(item: AgendaItem, actor) -> AgendaItem:
    """The board turns to ``item``: its timer starts (once); the meeting is in progress."""
    meeting = item.meeting
    if not may_decide(meeting, actor):
        raise PermissionDenied
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if item.started_at is None:
        item.started_at = timezone.now()
        item.save(update_fields=["started_at"])
    CabMeeting.objects.filter(pk=meeting.pk, status=CabMeeting.Status.PLANNED).update(
        status=CabMeeting.Status.IN_PROGRESS
    )
    return item


# Deciding ----------------------------------------------------------------------------------


def minutes_line(item: AgendaItem) -> str:
    change = item.change
    who = item.decided_by.get_full_name() or item.decided_by.username if item.decided_by else ""
    values = {
        "order": item.order,
        "number": change.number,
        "title": change.title,
        "risk": risk.risk_word(change.effective_risk),
        "decision": item.get_decision_display(),
        "who": who,
        "comment": item.comment,
    }
    if item.comment:
        return (
            gettext(
                "%(order)s. %(number)s %(title)s (%(risk)s risk): %(decision)s by %(who)s: %(comment)s"
            )
            % values
        )
    return (
        gettext("%(order)s. %(number)s %(title)s (%(risk)s risk): %(decision)s by %(who)s.")
        % values
    )


@transaction.atomic
def decide_item(item: AgendaItem, actor, decision: str, comment: str = "") -> AgendaItem:
    """The board's decision on one item: ``approve`` or ``reject`` (a comment is required)
    decide the change's CAB level through the approval engine as ``actor``; ``defer``
    leaves the change waiting for a later meeting. Written into the minutes and on the
    change's journal."""
    meeting = CabMeeting.objects.select_for_update().get(pk=item.meeting_id)
    if not may_decide(meeting, actor):
        raise PermissionDenied
    item = AgendaItem.objects.select_for_update().select_related("change").get(pk=item.pk)
    if decision not in ("approve", "reject", "defer"):
        raise ValidationError({"decision": _("Approve, reject or defer.")})
    if item.decision != Item.PENDING:
        raise ValidationError(
            {
                "decision": gettext("This item is already %(decision)s.")
                % {"decision": item.get_decision_display().lower()}
            }
        )
    comment = (comment or "").strip()
    if decision in ("approve", "reject") and not comment:
        raise ValidationError({"comment": _("The board's decision needs a comment.")})
    change = item.change
    if decision != "defer":
        level = change.approval_level
        at_cab = ChangeApproval.objects.filter(
            change=change, level=level, kind=ApprovalLevel.Kind.CAB, decision=Decision.PENDING
        ).exists()
        if change.state != ChangeState.AUTHORISE or not at_cab:
            raise ValidationError(
                {
                    "decision": gettext(
                        "%(number)s is not waiting for the CAB (%(state)s, level %(level)s)."
                    )
                    % {
                        "number": change.number,
                        "state": change.get_state_display().lower(),
                        "level": level,
                    }
                }
            )
    item.decision = {"approve": Item.APPROVED, "reject": Item.REJECTED, "defer": Item.DEFERRED}[
        decision
    ]
    item.comment = comment
    item.decided_by = actor
    item.decided_at = timezone.now()
    item.save(update_fields=["decision", "comment", "decided_by", "decided_at"])
    core.write_journal(
        change,
        JournalEntry.Kind.APPROVAL,
        actor,
        body=said(
            "%(meeting)s: %(decision)s: %(comment)s" if comment else "%(meeting)s: %(decision)s.",
            meeting=meeting.title,
            decision=said(gettext_noop(DECIDED[item.decision])),
            comment=comment,
        ),
        internal=True,
    )
    if decision != "defer":
        approvals.decide_level(
            change, change.approval_level, actor, decision == "approve", comment, meeting
        )
    meeting.minutes = (meeting.minutes.rstrip() + "\n" + minutes_line(item)).strip()
    meeting.save(update_fields=["minutes"])
    return item


@transaction.atomic
def send_minutes(meeting: CabMeeting, actor) -> CabMeeting:
    """Send the minutes to the attendees (the chair and the members), once; the meeting is
    then completed."""
    if not may_decide(meeting, actor):
        raise PermissionDenied
    meeting = CabMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.minutes_sent_at is not None:
        sent = timezone.localtime(meeting.minutes_sent_at)
        raise ValidationError(
            {
                "minutes": gettext("The minutes were sent on %(at)s.")
                % {"at": f"{sent:%Y-%m-%d %H:%M}"}
            }
        )
    if not meeting.minutes.strip():
        raise ValidationError({"minutes": _("There are no minutes to send yet.")})
    attendees = list(meeting.members.all())
    if meeting.chair is not None:
        attendees.append(meeting.chair)
    core.notify(
        attendees,
        said(
            gettext_noop("Minutes: %(meeting)s (%(date)s)"),
            meeting=meeting.title,
            date=f"{timezone.localtime(meeting.starts_at):%Y-%m-%d}",
        ),
        meeting.minutes,
    )
    meeting.minutes_sent_at = timezone.now()
    meeting.status = CabMeeting.Status.COMPLETED
    meeting.save(update_fields=["minutes_sent_at", "status"])
    return meeting


def summary(change: Change, user) -> dict:
    """What the board reads about a change at the workbench: risk with its reasons,
    conflicts (as ``user`` may read them), plans, CIs and services."""
    from . import conflicts

    return {
        "risk": risk.worded(risk.explain(change)),
        "conflicts": list(
            conflicts.seen_by(change.conflicts.all(), user).select_related("other_change", "window")
        ),
        "configuration_items": list(change.configuration_items.select_related("ci_class")),
        "services": list(change.services.all()),
    }
