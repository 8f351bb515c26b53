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
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from itsm.accounts.models import Role
from itsm.core import services as core
from itsm.core.approvals import Decision, LevelledApprovals
from itsm.core.i18n import Said, said
from itsm.core.models import JournalEntry
from itsm.core.views import error_text

from .models import RISK_RANK, ApprovalLevel, ApprovalState, Change, ChangeApproval
from .risk import risk_word
from .workflows import ChangeState

User = get_user_model()
Kind = ApprovalLevel.Kind
D = Decision

#: The kernel's levelled approvals engine, on a change's approvals.
ENGINE = LevelledApprovals(
    ChangeApproval, "change", reason=_("Say why the change is not authorised.")
)

SHORT = {
    Kind.PEER: _("peer review"),
    Kind.TEAM_MANAGER: _("the team's manager"),
    Kind.CHANGE_MANAGER: _("a change manager"),
    Kind.CAB: _("the CAB"),
    Kind.TEAM: _("a team"),
    Kind.EMERGENCY_AUTHORITY: _("the emergency change authority"),
}


def _moment(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def authorisation_missing(change) -> str | None:
    """What stops the change from being scheduled for lack of authorisation, or None."""
    if change.approval_state in (ApprovalState.APPROVED, ApprovalState.NOT_NEEDED):
        return None
    if change.approval_state == ApprovalState.REJECTED:
        return gettext("The change was not authorised.")
    return gettext("Needs its authorisation (every approval level approved).")


# Levels ------------------------------------------------------------------------------------


def level_name(level: ApprovalLevel) -> Said:
    """``level 2, the CAB: Change Advisory Board``, in the reader's language."""
    name = SHORT.get(level.kind, level.kind)
    if level.team_id and level.kind in (Kind.TEAM, Kind.CAB, Kind.EMERGENCY_AUTHORITY):
        name = said("%(kind)s: %(team)s", kind=name, team=str(level.team))
    return said(gettext_noop("level %(order)s, %(name)s"), order=level.order, name=name)


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
        group_name = group or gettext("its assignment group")
        who = {
            Kind.PEER: gettext("no member of %(group)s other than its requester")
            % {"group": group_name},
            Kind.TEAM_MANAGER: gettext("%(group)s has no active manager") % {"group": group_name},
            Kind.CHANGE_MANAGER: gettext("there is no active change manager"),
        }.get(
            level.kind,
            gettext("%(team)s has no active member") % {"team": level.team or gettext("the team")},
        )
        raise ValidationError(
            {
                "state": gettext("Nobody can approve %(level)s of %(number)s: %(who)s.")
                % {"level": level_name(level), "number": change.number, "who": who}
            }
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
    due = said(gettext_noop(" Decide by %(at)s."), at=_moment(due_at)) if due_at else ""
    waiting = (
        gettext_noop(
            "Waiting for approval (level %(level)s) from every one of %(names)s (%(kind)s).%(due)s"
        )
        if every_approver(level)
        else gettext_noop(
            "Waiting for approval (level %(level)s) from any one of %(names)s (%(kind)s).%(due)s"
        )
    )
    core.write_journal(
        change,
        JournalEntry.Kind.APPROVAL,
        None,
        body=said(waiting, level=level.order, names=names, kind=SHORT.get(level.kind, ""), due=due),
        internal=True,
    )
    at_cab = (
        said(gettext_noop(" It is decided at a CAB meeting.")) if level.kind == Kind.CAB else ""
    )
    needed = (
        gettext_noop("Emergency change approval needed: %(number)s %(title)s")
        if change.model.is_emergency
        else gettext_noop("Change approval needed: %(number)s %(title)s")
    )
    core.notify(
        approvers,
        said(needed, number=change.number, title=change.title),
        said(
            gettext_noop(
                "%(number)s (%(risk)s risk) waits for your approval (%(level)s).%(due)s%(at_cab)s"
            ),
            number=change.number,
            risk=risk_word(change.effective_risk),
            level=level_name(level),
            due=due,
            at_cab=at_cab,
        ),
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
            body=said(
                gettext_noop("No authorisation needed at risk %(risk)s."),
                risk=risk_word(change.effective_risk),
            ),
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
                "decision": gettext(
                    "%(number)s is not waiting for authorisation (%(state)s, %(approval)s)."
                )
                % {
                    "number": change.number,
                    "state": change.get_state_display().lower(),
                    "approval": change.get_approval_state_display().lower(),
                }
            }
        )
    if level != change.approval_level:
        raise ValidationError(
            {
                "decision": gettext("%(number)s waits for level %(waiting)s, not %(level)s.")
                % {"number": change.number, "waiting": change.approval_level, "level": level}
            }
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
            {"decision": _("The CAB decides this level at its meeting (the CAB workbench).")}
        )
    _check_waiting(change, approval.level)
    ENGINE.record(approval, approve, comment)
    level = _level(change, approval.level)
    if comment:
        verdict = (
            gettext_noop("Approved (level %(level)s): %(comment)s")
            if approve
            else gettext_noop("Rejected (level %(level)s): %(comment)s")
        )
    else:
        verdict = (
            gettext_noop("Approved (level %(level)s).")
            if approve
            else gettext_noop("Rejected (level %(level)s).")
        )
    core.write_journal(
        change,
        JournalEntry.Kind.APPROVAL,
        actor,
        body=said(verdict, level=approval.level, comment=comment),
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
            body=said(
                gettext_noop("Level %(level)s still waits for %(names)s."),
                level=approval.level,
                names=waiting,
            ),
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
                "closure_notes": gettext("Not authorised (level %(level)s, %(actor)s): %(comment)s")
                % {"level": order, "actor": actor, "comment": comment},
            },
            body=said(gettext_noop("Not authorised: %(comment)s"), comment=comment),
        )
        core.notify(
            _people(change),
            said(gettext_noop("%(number)s was not authorised"), number=change.number),
            said(
                gettext_noop(
                    "%(actor)s rejected %(number)s %(title)s (level %(level)s): %(comment)s"
                ),
                actor=str(actor),
                number=change.number,
                title=change.title,
                level=order,
                comment=comment,
            ),
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
    _authorised(
        change,
        said(
            gettext_noop("Authorised (every level approved, the last by %(actor)s)."),
            actor=str(actor),
        ),
    )


def _authorised(change, body: Said) -> None:
    from . import services

    change = services.platform_update(change, {"approval_state": ApprovalState.APPROVED}, body=body)
    core.write_journal(change, JournalEntry.Kind.APPROVAL, None, body=body, internal=True)
    core.notify(
        _people(change),
        said(gettext_noop("%(number)s is authorised"), number=change.number),
        said(
            gettext_noop("%(number)s %(title)s: %(body)s"),
            number=change.number,
            title=change.title,
            body=body,
        ),
        change,
    )
    if not (change.planned_start and change.planned_end):
        core.write_journal(
            change,
            JournalEntry.Kind.APPROVAL,
            None,
            body=said(gettext_noop("Stays in authorise until its planned window is set.")),
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
            body=said(
                gettext_noop("Authorised, but not scheduled: %(error)s"), error=error_text(error)
            ),
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
            {
                "state": gettext("%(number)s is not waiting for authorisation (%(state)s).")
                % {"number": change.number, "state": change.state}
            }
        )
    reason = (reason or "").strip()
    worded = reason or said(gettext_noop("Approved automatically by policy."))
    for approval in ENGINE.pending(change).select_for_update():
        ENGINE.record(approval, True, str(worded) if reason else worded.in_english())
    _authorised(change, said(gettext_noop("Approved automatically: %(reason)s"), reason=worded))
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
            due = _moment(min(a.due_at for a in rows))
            core.write_journal(
                change,
                JournalEntry.Kind.APPROVAL,
                None,
                body=said(
                    gettext_noop(
                        "Approval overdue (due %(due)s, level %(level)s, waiting for %(names)s): "
                        "the change managers were told."
                    ),
                    due=due,
                    level=rows[0].level,
                    names=names,
                ),
                internal=True,
            )
            core.notify(
                managers,
                said(
                    gettext_noop("Overdue approval: %(number)s %(title)s"),
                    number=change.number,
                    title=change.title,
                ),
                said(
                    gettext_noop("%(number)s waits for %(names)s since %(due)s (level %(level)s)."),
                    number=change.number,
                    names=names,
                    due=due,
                    level=rows[0].level,
                ),
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
        levels.append(
            {
                "level": None,
                "name": gettext("level %(order)s") % {"order": order},
                "applies": True,
                "approvals": rows,
            }
        )
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
