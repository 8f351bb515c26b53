"""A change's authorisation: the approval policy of the change's model, its levels decided
in order, each applying from a risk up (``ApprovalLevel.min_risk``).

The engine is the kernel's (``itsm.core.approvals.LevelledApprovals``: the same locking,
checks and level arithmetic as a service request's approvals); what is a change's own is
here: who approves each kind of level, what follows a rejection (the change is cancelled
with closure code "rejected") and the last approval (approved, and scheduled when its
planned window is set), the emergency change authority's deadline and its escalation.

* ``request(change, actor)``: the change entered authorise: open the first level that
  applies to its effective risk (or, none applying, it is authorised).
* ``decide(approval, actor, approve, comment)``: one approver's decision (API, screens).
* ``decide_level(change, level, actor, approve, comment, meeting)``: a CAB's decision of
  its whole level (``changes.cab``).
* ``auto_approve(change, reason)``: the platform approves what is pending (the DevOps
  gate's policy for low-risk changes).
* ``withdraw(change)``, ``authorisation_missing(change)`` (the workflow's guard),
  ``panel(change, user)`` (the change page's block), ``inbox(user)``,
  ``escalate_overdue(now)`` (the beat task)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from itsm.accounts.models import Role
from itsm.core import services as core
from itsm.core.approvals import Decision, LevelledApprovals
from itsm.core.models import JournalEntry
from itsm.core.views import error_text

from .models import RISK_RANK, ApprovalLevel, ApprovalState, Change, ChangeApproval
from .workflows import ChangeState

User = get_user_model()
Kind = ApprovalLevel.Kind
D = Decision

#: The kernel's levelled approvals engine, on a change's approvals.
ENGINE = LevelledApprovals(ChangeApproval, "change", reason="Say why the change is not authorised.")

SHORT = {
    Kind.PEER: "peer review",
    Kind.TEAM_MANAGER: "the team's manager",
    Kind.CHANGE_MANAGER: "a change manager",
    Kind.CAB: "the CAB",
    Kind.TEAM: "a team",
    Kind.EMERGENCY_AUTHORITY: "the emergency change authority",
}


def authorisation_missing(change) -> str | None:
    """What stops the change from being scheduled for lack of authorisation, or None."""
    if change.approval_state in (ApprovalState.APPROVED, ApprovalState.NOT_NEEDED):
        return None
    if change.approval_state == ApprovalState.REJECTED:
        return "The change was not authorised."
    return "Needs its authorisation (every approval level approved)."


# Levels ------------------------------------------------------------------------------------


def level_name(level: ApprovalLevel) -> str:
    name = SHORT.get(level.kind, level.kind)
    if level.team_id and level.kind in (Kind.TEAM, Kind.CAB, Kind.EMERGENCY_AUTHORITY):
        name = f"{name}: {level.team}"
    return f"level {level.order}, {name}"


def every_approver(level: ApprovalLevel) -> bool:
    """Does the level need every approver (the emergency change authority: any one)?"""
    return level.mode == ApprovalLevel.Mode.ALL and level.kind != Kind.EMERGENCY_AUTHORITY


def policy_levels(change) -> list[ApprovalLevel]:
    """Every level of the change's model's policy, in order (the ones that do not apply to
    its risk too)."""
    policy_id = change.model.approval_policy_id
    if policy_id is None:
        return []
    return list(
        ApprovalLevel.objects.filter(policy_id=policy_id).select_related("team").order_by("order")
    )


def applies(level: ApprovalLevel, change) -> bool:
    return RISK_RANK[change.effective_risk] >= RISK_RANK[level.min_risk]


def applicable_levels(change) -> list[ApprovalLevel]:
    """The levels that apply to the change's effective risk, in order."""
    return [level for level in policy_levels(change) if applies(level, change)]


def approvers_for(change, level: ApprovalLevel) -> list:
    """Who approves ``level`` of ``change``; a ValidationError naming the level (on
    ``state``: the move to authorise is refused) when nobody can."""
    group = change.assignment_group
    if level.kind == Kind.PEER:
        if group is None:
            people = []
        else:
            people = list(
                group.members.filter(is_active=True)
                .exclude(pk__in=[p for p in (change.requested_by_id, change.opened_by_id) if p])
                .order_by("username")
            )
    elif level.kind == Kind.TEAM_MANAGER:
        manager = group.manager if group is not None else None
        people = [manager] if manager is not None and manager.is_active else []
    elif level.kind == Kind.CHANGE_MANAGER:
        people = list(
            User.objects.filter(is_active=True, role=Role.CHANGE_MANAGER).order_by("username")
        )
    else:
        team = level.team
        people = list(team.members.filter(is_active=True).order_by("username")) if team else []
    if not people:
        who = {
            Kind.PEER: f"no member of {group or 'its assignment group'} other than its requester",
            Kind.TEAM_MANAGER: f"{group or 'its assignment group'} has no active manager",
            Kind.CHANGE_MANAGER: "there is no active change manager",
        }.get(level.kind, f"{level.team or 'the team'} has no active member")
        raise ValidationError(
            {"state": f"Nobody can approve {level_name(level)} of {change.number}: {who}."}
        )
    return people


def _open(change, level: ApprovalLevel) -> list:
    """Open ``level``: its approvals (with the deadline), the journal, the approvers told."""
    approvers = approvers_for(change, level)
    due_at = (
        timezone.now() + timedelta(minutes=level.deadline_minutes)
        if level.deadline_minutes
        else None
    )
    ENGINE.open_level(change, level.order, approvers, kind=level.kind, due_at=due_at)
    Change.objects.filter(pk=change.pk).update(approval_level=level.order)
    change.approval_level = level.order
    names = ", ".join(str(user) for user in approvers)
    how = "every one of" if every_approver(level) else "any one of"
    due = f" Decide by {timezone.localtime(due_at):%Y-%m-%d %H:%M %Z}." if due_at else ""
    core.write_journal(
        change,
        JournalEntry.Kind.APPROVAL,
        None,
        body=f"Waiting for approval (level {level.order}) from {how} {names} "
        f"({SHORT.get(level.kind)}).{due}",
        internal=True,
    )
    at_cab = " It is decided at a CAB meeting." if level.kind == Kind.CAB else ""
    core.notify(
        approvers,
        f"{'Emergency c' if change.model.is_emergency else 'C'}hange approval needed: "
        f"{change.number} {change.title}",
        f"{change.number} ({change.effective_risk} risk) waits for your approval "
        f"({level_name(level)}).{due}{at_cab}",
        change,
    )
    return approvers


def request(change, actor) -> None:
    """The change entered authorise: open the first level of its policy that applies (the
    caller's write holds the change's lock; a level nobody can approve refuses the move)."""
    ENGINE.skip(change)  # a change sent back to authorise starts over
    levels = applicable_levels(change)
    if not levels:
        Change.objects.filter(pk=change.pk).update(
            approval_state=ApprovalState.APPROVED, approval_level=0
        )
        change.approval_state, change.approval_level = ApprovalState.APPROVED, 0
        core.write_journal(
            change,
            JournalEntry.Kind.APPROVAL,
            None,
            body=f"No authorisation needed at risk {change.effective_risk}.",
            internal=True,
        )
        return
    Change.objects.filter(pk=change.pk).update(approval_state=ApprovalState.REQUESTED)
    change.approval_state = ApprovalState.REQUESTED
    _open(change, levels[0])


def withdraw(change) -> None:
    """The change was cancelled: pending approvals are no longer needed."""
    ENGINE.skip(change)


# Deciding ----------------------------------------------------------------------------------


def _check_waiting(change, level: int) -> None:
    if change.state != ChangeState.AUTHORISE or change.approval_state != ApprovalState.REQUESTED:
        raise ValidationError(
            {
                "decision": f"{change.number} is not waiting for authorisation "
                f"({change.get_state_display().lower()}, "
                f"{change.get_approval_state_display().lower()})."
            }
        )
    if level != change.approval_level:
        raise ValidationError(
            {"decision": f"{change.number} waits for level {change.approval_level}, not {level}."}
        )


@transaction.atomic
def decide(approval: ChangeApproval, actor, approve: bool, comment: str = "") -> ChangeApproval:
    """``actor``'s decision on their own approval: a rejection (with its reason) ends the
    authorisation and cancels the change; an approval completes its level (any one, or
    every approver) and opens the next level or authorises the change. The CAB's level is
    decided at its meeting (``changes.cab``)."""
    if actor is None or not actor.is_agent:
        raise PermissionDenied
    approval, change, comment = ENGINE.take(approval, actor, approve, comment)
    if approval.kind == Kind.CAB:
        raise ValidationError(
            {"decision": "The CAB decides this level at its meeting (the CAB workbench)."}
        )
    _check_waiting(change, approval.level)
    ENGINE.record(approval, approve, comment)
    level = _level(change, approval.level)
    verdict = "Approved" if approve else "Rejected"
    core.write_journal(
        change,
        JournalEntry.Kind.APPROVAL,
        actor,
        body=f"{verdict} (level {approval.level})" + (f": {comment}" if comment else "."),
        internal=True,
    )
    if (
        approve
        and level is not None
        and not ENGINE.level_complete(change, approval.level, every_approver(level))
    ):
        waiting = ", ".join(
            str(a.approver)
            for a in ENGINE.pending(change, approval.level).select_related("approver")
        )
        core.write_journal(
            change,
            JournalEntry.Kind.APPROVAL,
            None,
            body=f"Level {approval.level} still waits for {waiting}.",
            internal=True,
        )
        return approval
    _level_decided(change, approval.level, approve, comment, actor)
    return approval


@transaction.atomic
def decide_level(change, level: int, actor, approve: bool, comment: str, meeting=None) -> int:
    """A board's decision of a whole level (the CAB at its meeting): every pending approval
    of ``level`` is decided as ``actor`` recorded it; the caller checked ``actor`` may.
    Returns how many approvals were decided."""
    change = core.lock(change)
    _check_waiting(change, level)
    comment = (comment or "").strip()
    pending = list(ENGINE.pending(change, level).select_for_update())
    for approval in pending:
        ENGINE.record(approval, approve, comment, decided_by=actor, cab_meeting=meeting)
    _level_decided(change, level, approve, comment, actor)
    return len(pending)


def _level(change, order: int) -> ApprovalLevel | None:
    return next((lv for lv in policy_levels(change) if lv.order == order), None)


def _level_decided(change, order: int, approve: bool, comment: str, actor) -> None:
    from . import services

    ENGINE.skip(change, order)
    if not approve:
        ENGINE.skip(change)
        services.platform_update(
            change,
            {
                "approval_state": ApprovalState.REJECTED,
                "state": ChangeState.CANCELLED,
                "closure_code": "rejected",
                "closure_notes": f"Not authorised (level {order}, {actor}): {comment}",
            },
            body=f"Not authorised: {comment}",
        )
        core.notify(
            _people(change),
            f"{change.number} was not authorised",
            f"{actor} rejected {change.number} {change.title} (level {order}): {comment}",
            change,
        )
        return
    following = next(
        (lv for lv in applicable_levels(change) if lv.order > order),
        None,
    )
    if following is not None:
        _open(change, following)
        return
    _authorised(change, f"Authorised (every level approved, the last by {actor}).")


def _authorised(change, body: str) -> None:
    from . import services

    change = services.platform_update(change, {"approval_state": ApprovalState.APPROVED}, body=body)
    core.write_journal(change, JournalEntry.Kind.APPROVAL, None, body=body, internal=True)
    core.notify(
        _people(change),
        f"{change.number} is authorised",
        f"{change.number} {change.title}: {body}",
        change,
    )
    if not (change.planned_start and change.planned_end):
        core.write_journal(
            change,
            JournalEntry.Kind.APPROVAL,
            None,
            body="Stays in authorise until its planned window is set.",
            internal=True,
        )
        return
    try:
        with transaction.atomic():
            services.platform_update(change, {"state": ChangeState.SCHEDULED})
    except ValidationError as error:
        core.write_journal(
            change,
            JournalEntry.Kind.APPROVAL,
            None,
            body=f"Authorised, but not scheduled: {error_text(error)}",
            internal=True,
        )


def _people(change) -> list:
    return [p for p in (change.requested_by, change.assigned_to, change.opened_by) if p]


@transaction.atomic
def auto_approve(change, reason: str) -> Change:
    """The platform authorises ``change`` (a policy's automatic approval, e.g. the DevOps
    gate's for low risk, no conflict, tests passed): every pending approval approved with
    ``reason``, the levels not yet opened not needed. Returns the change as saved."""
    change = core.lock(change)
    if change.approval_state in (ApprovalState.APPROVED, ApprovalState.NOT_NEEDED):
        return change
    if change.state != ChangeState.AUTHORISE or change.approval_state != ApprovalState.REQUESTED:
        raise ValidationError(
            {"state": f"{change.number} is not waiting for authorisation ({change.state})."}
        )
    reason = (reason or "").strip() or "Approved automatically by policy."
    for approval in ENGINE.pending(change).select_for_update():
        ENGINE.record(approval, True, reason)
    _authorised(change, f"Approved automatically: {reason}")
    return Change.objects.get(pk=change.pk)


# Escalation --------------------------------------------------------------------------------


def change_managers() -> list:
    return list(User.objects.filter(is_active=True, role=Role.CHANGE_MANAGER).order_by("pk"))


def escalate_overdue(now=None) -> int:
    """Pending approvals past their deadline (the emergency change authority's): the change
    managers are told once per approval, and the change's journal says so."""
    now = now or timezone.now()
    done = 0
    overdue = (
        ChangeApproval.objects.pending()
        .filter(due_at__lt=now, escalated_at__isnull=True, change__state=ChangeState.AUTHORISE)
        .values_list("change_id", flat=True)
        .distinct()
    )
    managers = change_managers()
    for change_id in list(overdue):
        with transaction.atomic():
            change = Change.objects.select_for_update().get(pk=change_id)
            rows = list(
                ENGINE.pending(change)
                .filter(due_at__lt=now, escalated_at__isnull=True)
                .select_related("approver")
                .select_for_update(of=("self",))
            )
            if not rows:
                continue
            ChangeApproval.objects.filter(pk__in=[a.pk for a in rows]).update(escalated_at=now)
            names = ", ".join(sorted({str(a.approver) for a in rows}))
            due = timezone.localtime(min(a.due_at for a in rows))
            core.write_journal(
                change,
                JournalEntry.Kind.APPROVAL,
                None,
                body=f"Approval overdue (due {due:%Y-%m-%d %H:%M %Z}, level "
                f"{rows[0].level}, waiting for {names}): the change managers were told.",
                internal=True,
            )
            core.notify(
                managers,
                f"Overdue approval: {change.number} {change.title}",
                f"{change.number} waits for {names} since {due:%Y-%m-%d %H:%M %Z} "
                f"(level {rows[0].level}).",
                change,
            )
            done += 1
    return done


# Reading -----------------------------------------------------------------------------------


def inbox(user):
    """``user``'s pending change approvals at the current level of changes in authorise."""
    return (
        ChangeApproval.objects.pending()
        .filter(approver=user, change__state=ChangeState.AUTHORISE)
        .select_related("change", "change__model")
        .order_by("due_at", "created_at", "pk")
    )


def home(request) -> dict | None:
    """The agent home's "Awaiting my approval" block for changes (two queries)."""
    waiting = inbox(request.user)
    rows = list(waiting[:5])
    if not rows:
        return None
    return {"approvals": rows, "count": waiting.count() if len(rows) == 5 else len(rows)}


def panel(change, user) -> dict:
    """What the change page's authorisation block shows (``templates/changes/_approvals.html``):
    the policy's levels in order (applying or not at the change's risk), each with its
    approvals, and ``mine``: the user's own pending approval (the buttons). Two queries."""
    approvals = list(
        change.approvals.select_related("approver", "decided_by", "cab_meeting").order_by(
            "level", "pk"
        )
    )
    by_level: dict[int, list] = {}
    for approval in approvals:
        by_level.setdefault(approval.level, []).append(approval)
    levels = []
    for level in policy_levels(change):
        rows = by_level.pop(level.order, [])
        levels.append(
            {
                "level": level,
                "name": level_name(level),
                "applies": applies(level, change),
                "every": every_approver(level),
                "current": change.approval_state == ApprovalState.REQUESTED
                and change.approval_level == level.order,
                "approvals": rows,
                "due_at": next((a.due_at for a in rows if a.due_at and a.is_pending), None),
            }
        )
    for order, rows in sorted(by_level.items()):  # levels since removed from the policy
        levels.append({"level": None, "name": f"level {order}", "applies": True, "approvals": rows})
    mine = next(
        (
            a
            for a in approvals
            if a.approver_id == user.pk
            and a.is_pending
            and a.level == change.approval_level
            and change.state == ChangeState.AUTHORISE
        ),
        None,
    )
    return {
        "approvals": approvals,
        "levels": levels,
        "mine": mine,
        "mine_at_cab": mine is not None and mine.kind == Kind.CAB,
    }
