"""Service request management: ordering from the catalogue, approvals level by level, and
fulfilment tasks stage by stage. API views, portal screens and commands call these; each
runs in one transaction."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from itsm.core import services as core
from itsm.core import writes
from itsm.core.approvals import LevelledApprovals
from itsm.core.i18n import said
from itsm.core.models import JournalEntry

from . import variables as forms
from .models import (
    Approval,
    ApprovalLevel,
    CatalogueItem,
    FulfilmentTask,
    ServiceRequest,
)
from .workflows import RequestState, TaskState

User = get_user_model()
D = Approval.Decision
#: The kernel's levelled approvals engine, on the catalogue's approvals of a request.
APPROVALS = LevelledApprovals(Approval, "request", reason=_("Say why, for the requester."))


def _check_request(request: ServiceRequest, actor, change: writes.Write) -> None:
    """People cancel a request or close a fulfilled one; the platform moves the rest."""
    if actor is not None and change.transition is not None:
        if change.transition.target not in (RequestState.CANCELLED, RequestState.CLOSED):
            raise ValidationError(
                {"state": gettext("Requests can be cancelled or, once fulfilled, closed.")}
            )


def _request_validate(request: ServiceRequest, changed: set | None) -> None:
    """A request is coordinated by a staff member; with a group, one of its members."""
    errors: dict = {}
    if request.assignment_group_id:
        writes.check_assignment(request, changed, errors)
    elif (
        request.assigned_to_id
        and (changed is None or "assigned_to" in changed)
        and not request.assigned_to.is_agent
    ):
        errors["assigned_to"] = gettext("%(person)s is not a staff member.") % {
            "person": request.assigned_to
        }
    writes.refuse(errors)


def _request_saved(request: ServiceRequest, actor, change: writes.Write) -> None:
    if not change.created:
        return
    files = change.options.get("files") or {}
    cleaned = dict(request.variables)
    for name, uploaded in files.items():
        try:
            cleaned[name] = core.add_attachment(request, actor, uploaded).pk
        except ValidationError as error:
            raise ValidationError({f"variables.{name}": error.messages}) from None
    if files:
        ServiceRequest.objects.filter(pk=request.pk).update(variables=cleaned)
        request.variables = cleaned


def _request_after(request: ServiceRequest, actor, change: writes.Write) -> None:
    if change.created:
        levels = change.options["levels"]
        if levels:
            request = _move(request, RequestState.AWAITING_APPROVAL)
            _open_level(request, levels[0])
        else:
            _approved(request)
    elif change.moved(to=RequestState.CANCELLED):
        APPROVALS.skip(request)
        for task in request.tasks.exclude(state__in=[TaskState.CLOSED, TaskState.CANCELLED]):
            writes.change(TASK_SPEC, task, None, {"state": TaskState.CANCELLED}, actor=actor)
        if change.options.get("reason"):
            core.add_comment(request, actor, change.options["reason"])


REQUEST_SPEC = writes.WriteSpec(
    model=ServiceRequest,
    create=writes.Access(
        staff=("item", "requested_for", "variables"),
        end_user=("item", "requested_for", "variables"),
    ),
    update=writes.Access(
        staff=("state", "assignment_group", "assigned_to"),
        end_user=("state",),
        platform=("state", "rejection_reason", "approval_level", "fulfilled_at"),
    ),
    quiet=("closed_at", "fulfilled_at", "approval_level"),
    refused=_("Only the state (and, for staff, the assignment) changes after ordering."),
    initial=lambda actor, data, options: {
        "title": data["item"].name,
        "requester": actor,
        "requested_for": data.get("requested_for") or actor,
        "state": RequestState.SUBMITTED,
    },
    derive=_check_request,
    validate=_request_validate,
    guard=lambda request, actor: _may_add(request, actor) if actor is not None else None,
    created_data=lambda request: {"item": request.item.name},
    saved=_request_saved,
    after=_request_after,
)


def _task_after(task: FulfilmentTask, actor, change: writes.Write) -> None:
    if change.created:
        request = change.options["request"]
        template = change.options["template"]
        core.write_journal(
            request,
            JournalEntry.Kind.FIELDS,
            None,
            body=said(
                gettext_noop("Task %(number)s for %(team)s."),
                number=task.number,
                team=str(template.team),
            ),
            internal=True,
        )
        managers = [template.team.manager] if template.team.manager_id else []
        core.notify(
            managers,
            lambda: (
                gettext("New task %(number)s: %(title)s")
                % {"number": task.number, "title": task.title}
            ),
            task.description,
            task,
        )
    elif task.state in (TaskState.CLOSED, TaskState.CANCELLED) and not change.options.get("actor"):
        _after_task(task)


def _task_validate(task: FulfilmentTask, changed: set | None) -> None:
    errors: dict = {}
    writes.check_assignment(task, changed, errors)
    writes.refuse(errors)


TASK_SPEC = writes.WriteSpec(
    model=FulfilmentTask,
    create=writes.Access(
        staff=(),
        platform=("title", "description", "request", "stage", "assignment_group"),
    ),
    update=writes.Access(staff=("assignment_group", "assigned_to", "description", "state")),
    quiet=("closed_at",),
    refused=_("This field cannot be changed."),
    initial=lambda actor, data, options: {"state": TaskState.OPEN},
    validate=_task_validate,
    created_data=lambda task: {"request": task.request.number},
    after=_task_after,
)


def _move(record, target: str, **fields):
    """The platform takes a transition (checked) of a request; returns the saved row."""
    return writes.change(REQUEST_SPEC, record, None, {"state": target, **fields})


def submit_request(
    actor, item: CatalogueItem, answers, requested_for=None, files=None
) -> ServiceRequest:
    """Order ``item`` with ``answers``; a 400-style ValidationError names each variable that
    is wrong, and nothing is saved. ``files`` answers attachment questions ({name: file}):
    they are attached to the new request and the answer becomes the attachment's id."""
    if not CatalogueItem.objects.orderable_by(actor).filter(pk=item.pk).exists():
        raise ValidationError({"item": _("You may not order this item.")})
    requested_for = requested_for or actor
    if requested_for != actor and not requested_for.is_active:
        raise ValidationError(
            {
                "requested_for": gettext("%(person)s is not an active user.")
                % {"person": requested_for}
            }
        )
    files = dict(files or {})
    attachment_names = set(item.variables.filter(type="attachment").values_list("name", flat=True))
    unknown = sorted(set(files) - attachment_names)
    if unknown:
        raise ValidationError(
            {f"variables.{n}": gettext("This question takes no file.") for n in unknown}
        )
    if isinstance(answers, dict):
        answers = {**answers, **dict.fromkeys(files, 0)}  # stands in for the id until stored
    cleaned = forms.validate(item, answers, actor)
    levels = list(item.approval_levels.select_related("team").order_by("order"))
    if levels and levels[0].kind == ApprovalLevel.Kind.MANAGER and not requested_for.manager_id:
        raise ValidationError(
            {
                "requested_for": gettext("%(person)s has no manager on record to approve this.")
                % {"person": requested_for}
            }
        )
    data = {"item": item, "requested_for": requested_for, "variables": cleaned}
    request = writes.open(REQUEST_SPEC, actor, data, files=files, levels=levels)
    return ServiceRequest.objects.get(pk=request.pk)


def _approvers(request: ServiceRequest, level: ApprovalLevel) -> list:
    if level.kind == ApprovalLevel.Kind.MANAGER:
        return [request.requested_for.manager]
    members = list(level.team.members.filter(is_active=True).order_by("pk"))
    if not members:
        raise ValidationError(
            {"item": gettext("%(team)s has nobody to approve this.") % {"team": level.team}}
        )
    return members


def _open_level(request: ServiceRequest, level: ApprovalLevel) -> None:
    request.approval_level = level.order
    ServiceRequest.objects.filter(pk=request.pk).update(approval_level=level.order)
    approvers = _approvers(request, level)
    APPROVALS.open_level(request, level.order, approvers)
    core.write_journal(
        request,
        JournalEntry.Kind.APPROVAL,
        None,
        body=said(
            gettext_noop("Waiting for approval (level %(level)s) from %(approvers)s."),
            level=level.order,
            approvers=", ".join(map(str, approvers)),
        ),
    )
    values = {
        "number": request.number,
        "title": request.title,
        "requester": request.requester,
        "item": request.item,
        "requested_for": request.requested_for,
    }
    core.notify(
        approvers,
        lambda: gettext("Approval needed: %(number)s %(title)s") % values,
        lambda: gettext("%(requester)s asked for %(item)s for %(requested_for)s.") % values,
        request,
    )


@transaction.atomic
def decide(approval: Approval, actor, approve: bool, comment: str = "") -> Approval:
    """An approver's decision (the kernel's levelled approvals lock, check and record it).
    A rejection ends the request with the reason shown to the requester; an approval
    completes the level (any one, or all for "team_all") and opens the next one or starts
    fulfilment."""
    approval, request, comment = APPROVALS.take(approval, actor, approve, comment)
    if request.state != RequestState.AWAITING_APPROVAL:
        raise ValidationError(
            {
                "decision": gettext("%(number)s is %(state)s.")
                % {"number": request.number, "state": request.state}
            }
        )
    APPROVALS.record(approval, approve, comment)
    writes.bump(request)  # a decision shown on the request: an ETag read before is stale
    core.write_journal(
        request,
        JournalEntry.Kind.APPROVAL,
        actor,
        body=_decision(approve, comment),
    )
    if not approve:
        APPROVALS.skip(request, approval.level)
        _move(request, RequestState.REJECTED, rejection_reason=comment)
        values = {"number": request.number, "actor": actor, "item": request.item}
        core.notify(
            [request.requester, request.requested_for],
            lambda: gettext("%(number)s was not approved") % values,
            lambda: (
                gettext("%(actor)s did not approve %(item)s: %(comment)s")
                % {**values, "comment": comment}
            ),
            request,
        )
        return approval
    level = request.item.approval_levels.get(order=approval.level)
    if not APPROVALS.level_complete(
        request, approval.level, every=level.kind == ApprovalLevel.Kind.TEAM_ALL
    ):
        return approval  # the others still have to approve
    APPROVALS.skip(request, approval.level)
    following = (
        request.item.approval_levels.filter(order__gt=approval.level).order_by("order").first()
    )
    if following is not None:
        _open_level(request, following)
    else:
        _approved(request)
    return approval


def _decision(approve: bool, comment: str):
    """The journal line of a decision: "Approved." or "Rejected: <the reason>"."""
    if approve:
        if comment:
            return said(gettext_noop("Approved: %(comment)s"), comment=comment)
        return said(gettext_noop("Approved."))
    if comment:
        return said(gettext_noop("Rejected: %(comment)s"), comment=comment)
    return said(gettext_noop("Rejected."))


def _approved(request: ServiceRequest) -> None:
    request = _move(request, RequestState.APPROVED)
    if request.item.task_templates.exists():
        request = _move(request, RequestState.IN_FULFILMENT)
        _open_stage(request, request.item.task_templates.order_by("stage").first().stage)
    else:
        _fulfilled(request)


def _open_stage(request: ServiceRequest, stage: int) -> None:
    for template in request.item.task_templates.filter(stage=stage).select_related("team"):
        data = {
            "title": f"{template.title} ({request.number})",
            "description": gettext("For %(person)s: %(item)s")
            % {"person": request.requested_for, "item": request.item},
            "request": request,
            "stage": stage,
            "assignment_group": template.team,
        }
        writes.open(TASK_SPEC, None, data, request=request, template=template)


def _fulfilled(request: ServiceRequest) -> None:
    request = _move(request, RequestState.FULFILLED, fulfilled_at=timezone.now())
    values = {"number": request.number, "title": request.title, "item": request.item}
    core.notify(
        [request.requester, request.requested_for],
        lambda: gettext("%(number)s is fulfilled: %(title)s") % values,
        lambda: gettext("Your request for %(item)s is fulfilled.") % values,
        request,
    )


def update_task(task: FulfilmentTask, actor, data: dict, expected_version=None) -> FulfilmentTask:
    """Work a task: assignment, notes fields, and its state; closing the last task of a
    stage opens the next stage, closing the last stage fulfils the request."""
    if actor is None or not actor.is_agent:
        raise PermissionDenied
    return writes.change(TASK_SPEC, task, actor, data, expected_version)


def _after_task(task: FulfilmentTask) -> None:
    request = core.lock(task.request)
    if request.state != RequestState.IN_FULFILMENT:
        return
    open_here = request.tasks.filter(stage=task.stage).exclude(
        state__in=[TaskState.CLOSED, TaskState.CANCELLED]
    )
    if open_here.exists():
        return
    following = request.item.task_templates.filter(stage__gt=task.stage).order_by("stage").first()
    if following is not None:
        _open_stage(request, following.stage)
    else:
        _fulfilled(request)


def change_request(
    request: ServiceRequest, actor, data: dict, expected_version=None
) -> ServiceRequest:
    """What people change on a request after ordering: its state (cancel, or close once
    fulfilled)."""
    return writes.change(REQUEST_SPEC, request, actor, data, expected_version)


def cancel_request(
    request: ServiceRequest, actor, reason: str = "", expected_version=None
) -> ServiceRequest:
    return writes.change(
        REQUEST_SPEC,
        request,
        actor,
        {"state": RequestState.CANCELLED},
        expected_version,
        reason=reason,
    )


def pending_approvals(user):
    """The approvals waiting for ``user``'s decision (the portal's and the workspace's
    inbox, and the counts on the home pages)."""
    return Approval.objects.filter(approver=user, decision=D.PENDING).select_related(
        "request__item", "request__requested_for", "request__requester"
    )


def approval_inbox(user) -> list[Approval]:
    """``user``'s pending approvals, oldest first, each with what an approver decides on:
    ``answers`` (question, answer) as the request page shows them, ``policy`` (the item's
    approval levels, in order) and ``level_rule`` (the one this approval is for). A fixed
    number of queries, however many approvals wait."""
    approvals = list(
        pending_approvals(user)
        .prefetch_related("request__item__variables", "request__item__approval_levels__team")
        .order_by("created_at", "pk")
    )
    for approval in approvals:
        approval.answers = forms.display_answers(approval.request)
        approval.policy = list(approval.request.item.approval_levels.all())
        approval.level_rule = next(
            (level for level in approval.policy if level.order == approval.level), None
        )
    return approvals


def close_request(request: ServiceRequest, actor, expected_version=None) -> ServiceRequest:
    """The requester (or staff) confirms a fulfilled request."""
    return change_request(request, actor, {"state": RequestState.CLOSED}, expected_version)


def _may_add(record, actor) -> None:
    if isinstance(record, FulfilmentTask):
        if not actor.is_agent:
            raise PermissionDenied
    elif not actor.is_agent and actor.pk not in (record.requester_id, record.requested_for_id):
        raise PermissionDenied


@transaction.atomic
def comment(record, actor, body: str, internal: bool = False):
    _may_add(record, actor)
    return core.add_comment(record, actor, body, internal)


@transaction.atomic
def attach(record, actor, uploaded_file, internal: bool = False):
    _may_add(record, actor)
    return core.add_attachment(record, actor, uploaded_file, internal)
