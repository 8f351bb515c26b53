"""Service request management: ordering from the catalogue, approvals level by level, and
fulfilment tasks stage by stage. API views, portal screens and commands call these; each
runs in one transaction."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from itsm.core import services as core
from itsm.core.models import JournalEntry
from itsm.core.numbering import next_number

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


def _move(record, actor, target: str, **fields) -> None:
    """Take a workflow transition (checked) and save it with the journal."""
    diff = core.set_fields(record, fields) if fields else {}
    before = record.state
    record.workflow.apply(record, target, actor)
    diff["state"] = [before, record.state]
    core.save_record(
        record, actor, diff, extra_fields=["closed_at"] if hasattr(record, "closed_at") else ()
    )


@transaction.atomic
def submit_request(
    actor, item: CatalogueItem, answers, requested_for=None, files=None
) -> ServiceRequest:
    """Order ``item`` with ``answers``; a 400-style ValidationError names each variable that
    is wrong, and nothing is saved. ``files`` answers attachment questions ({name: file}):
    they are attached to the new request and the answer becomes the attachment's id."""
    if not CatalogueItem.objects.orderable_by(actor).filter(pk=item.pk).exists():
        raise ValidationError({"item": "You may not order this item."})
    requested_for = requested_for or actor
    if requested_for != actor and not requested_for.is_active:
        raise ValidationError({"requested_for": f"{requested_for} is not an active user."})
    files = dict(files or {})
    attachment_names = set(item.variables.filter(type="attachment").values_list("name", flat=True))
    unknown = sorted(set(files) - attachment_names)
    if unknown:
        raise ValidationError({f"variables.{n}": "This question takes no file." for n in unknown})
    if isinstance(answers, dict):
        answers = {**answers, **dict.fromkeys(files, 0)}  # stands in for the id until stored
    cleaned = forms.validate(item, answers, actor)
    levels = list(item.approval_levels.select_related("team").order_by("order"))
    if levels and levels[0].kind == ApprovalLevel.Kind.MANAGER and not requested_for.manager_id:
        raise ValidationError(
            {"requested_for": f"{requested_for} has no manager on record to approve this."}
        )
    request = ServiceRequest(
        number=next_number(ServiceRequest.NUMBER_PREFIX),
        title=item.name,
        item=item,
        requester=actor,
        requested_for=requested_for,
        variables=cleaned,
        state=RequestState.SUBMITTED,
    )
    request.save()
    for name, uploaded in files.items():
        try:
            cleaned[name] = core.add_attachment(request, actor, uploaded).pk
        except ValidationError as error:
            raise ValidationError({f"variables.{name}": error.messages}) from None
    if files:
        ServiceRequest.objects.filter(pk=request.pk).update(variables=cleaned)
        request.variables = cleaned
    core.write_journal(request, JournalEntry.Kind.CREATED, actor, data={"item": item.name})
    core.announce(request, actor, {}, created=True)
    if levels:
        _move(request, None, RequestState.AWAITING_APPROVAL)
        _open_level(request, levels[0])
    else:
        _approved(request)
    return request


def _approvers(request: ServiceRequest, level: ApprovalLevel) -> list:
    if level.kind == ApprovalLevel.Kind.MANAGER:
        return [request.requested_for.manager]
    members = list(level.team.members.filter(is_active=True).order_by("pk"))
    if not members:
        raise ValidationError({"item": f"{level.team} has nobody to approve this."})
    return members


def _open_level(request: ServiceRequest, level: ApprovalLevel) -> None:
    request.approval_level = level.order
    ServiceRequest.objects.filter(pk=request.pk).update(approval_level=level.order)
    approvers = _approvers(request, level)
    Approval.objects.bulk_create(
        [Approval(request=request, level=level.order, approver=user) for user in approvers]
    )
    core.write_journal(
        request,
        JournalEntry.Kind.APPROVAL,
        None,
        body=f"Waiting for approval (level {level.order}) from {', '.join(map(str, approvers))}.",
    )
    core.notify(
        approvers,
        f"Approval needed: {request.number} {request.title}",
        f"{request.requester} asked for {request.item} for {request.requested_for}.",
        request,
    )


@transaction.atomic
def decide(approval: Approval, actor, approve: bool, comment: str = "") -> Approval:
    """An approver's decision. A rejection ends the request with the reason shown to the
    requester; an approval completes the level (any one, or all for "team_all") and opens
    the next one or starts fulfilment."""
    approval = Approval.objects.select_for_update().select_related("request").get(pk=approval.pk)
    if approval.approver_id != actor.pk:
        raise PermissionDenied
    if approval.decision != D.PENDING:
        raise ValidationError({"decision": f"This approval is already {approval.decision}."})
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": "Say why, for the requester."})
    request = core.lock(approval.request)
    if request.state != RequestState.AWAITING_APPROVAL:
        raise ValidationError({"decision": f"{request.number} is {request.state}."})
    approval.decision = D.APPROVED if approve else D.REJECTED
    approval.comment = comment
    approval.decided_at = timezone.now()
    approval.save(update_fields=["decision", "comment", "decided_at"])
    core.write_journal(
        request,
        JournalEntry.Kind.APPROVAL,
        actor,
        body=f"{'Approved' if approve else 'Rejected'}" + (f": {comment}" if comment else "."),
    )
    pending = request.approvals.filter(level=approval.level, decision=D.PENDING)
    if not approve:
        pending.update(decision=D.SKIPPED)
        _move(request, None, RequestState.REJECTED, rejection_reason=comment)
        core.notify(
            [request.requester, request.requested_for],
            f"{request.number} was not approved",
            f"{actor} did not approve {request.item}: {comment}",
            request,
        )
        return approval
    level = request.item.approval_levels.get(order=approval.level)
    if level.kind == ApprovalLevel.Kind.TEAM_ALL and pending.exists():
        return approval  # the others still have to approve
    pending.update(decision=D.SKIPPED)
    following = (
        request.item.approval_levels.filter(order__gt=approval.level).order_by("order").first()
    )
    if following is not None:
        _open_level(request, following)
    else:
        _approved(request)
    return approval


def _approved(request: ServiceRequest) -> None:
    _move(request, None, RequestState.APPROVED)
    if request.item.task_templates.exists():
        _move(request, None, RequestState.IN_FULFILMENT)
        _open_stage(request, request.item.task_templates.order_by("stage").first().stage)
    else:
        _fulfilled(request)


def _open_stage(request: ServiceRequest, stage: int) -> None:
    for template in request.item.task_templates.filter(stage=stage).select_related("team"):
        task = FulfilmentTask(
            number=next_number(FulfilmentTask.NUMBER_PREFIX),
            title=f"{template.title} ({request.number})",
            description=f"For {request.requested_for}: {request.item}",
            request=request,
            stage=stage,
            assignment_group=template.team,
            state=TaskState.OPEN,
        )
        task.save()
        core.write_journal(task, JournalEntry.Kind.CREATED, None, data={"request": request.number})
        core.write_journal(
            request,
            JournalEntry.Kind.FIELDS,
            None,
            body=f"Task {task.number} for {template.team}.",
            internal=True,
        )
        managers = [template.team.manager] if template.team.manager_id else []
        core.notify(managers, f"New task {task.number}: {task.title}", task.description, task)


def _fulfilled(request: ServiceRequest) -> None:
    request.fulfilled_at = timezone.now()
    ServiceRequest.objects.filter(pk=request.pk).update(fulfilled_at=request.fulfilled_at)
    _move(request, None, RequestState.FULFILLED)
    core.notify(
        [request.requester, request.requested_for],
        f"{request.number} is fulfilled: {request.title}",
        f"Your request for {request.item} is fulfilled.",
        request,
    )


@transaction.atomic
def update_task(task: FulfilmentTask, actor, data: dict, expected_version=None) -> FulfilmentTask:
    """Work a task: assignment, notes fields, and its state; closing the last task of a
    stage opens the next stage, closing the last stage fulfils the request."""
    if actor is None or not actor.is_agent:
        raise PermissionDenied
    task = core.lock(task, expected_version)
    data = dict(data)
    target = data.pop("state", None)
    unknown = sorted(set(data) - {"assignment_group", "assigned_to", "description"})
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    diff = core.set_fields(task, data)
    if (
        task.assigned_to_id
        and not task.assignment_group.members.filter(pk=task.assigned_to_id).exists()
    ):
        raise ValidationError(
            {"assigned_to": f"{task.assigned_to} is not a member of {task.assignment_group}."}
        )
    if target is not None and target != task.state:
        before = task.state
        task.workflow.apply(task, target, actor)
        diff["state"] = [before, task.state]
    core.save_record(task, actor, diff, extra_fields=["closed_at"])
    if task.state in (TaskState.CLOSED, TaskState.CANCELLED):
        _after_task(task)
    return task


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


@transaction.atomic
def cancel_request(request: ServiceRequest, actor, reason: str = "") -> ServiceRequest:
    request = core.lock(request)
    _move(request, actor, RequestState.CANCELLED)
    request.approvals.filter(decision=D.PENDING).update(decision=D.SKIPPED)
    for task in request.tasks.exclude(state__in=[TaskState.CLOSED, TaskState.CANCELLED]):
        before = task.state
        task.workflow.apply(task, TaskState.CANCELLED, None)
        core.save_record(task, actor, {"state": [before, task.state]}, extra_fields=["closed_at"])
    if reason:
        core.add_comment(request, actor, reason)
    return request


def pending_approvals(user):
    return Approval.objects.filter(approver=user, decision=D.PENDING).select_related(
        "request__item", "request__requested_for"
    )


@transaction.atomic
def close_request(request: ServiceRequest, actor) -> ServiceRequest:
    """The requester (or staff) confirms a fulfilled request."""
    request = core.lock(request)
    _move(request, actor, RequestState.CLOSED)
    return request


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
