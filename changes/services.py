"""Change enablement operations: raising a change (from scratch or from a standard change
template), changing it and moving it through its model's path, its tasks, the
post-implementation review's follow-up problem, and the links to incidents and problems.

Risk (``risk``), conflicts and the schedule (``conflicts``) and authorisation
(``approvals``) are their own modules; this one calls them when what they depend on
changes. API views, screens, the CAB workbench and the DevOps gate all call these; each
write runs in one transaction."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from itsm.core import services as core
from itsm.core import writes
from itsm.core.i18n import Said, said
from itsm.core.models import JournalEntry

from . import approvals, conflicts, risk
from .models import (
    ApprovalState,
    Change,
    ChangeTask,
    ChangeTemplate,
    ClosureCode,
)
from .workflows import ChangeState, TaskState

#: Fields people set on a change (besides ``state``).
EDITABLE_FIELDS = (
    "title",
    "description",
    "justification",
    "model",
    "category",
    "services",
    "configuration_items",
    "requested_by",
    "assignment_group",
    "assigned_to",
    "planned_start",
    "planned_end",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "outage_expected",
    "cab_date",
    "risk_override",
    "risk_override_reason",
    "closure_code",
    "closure_notes",
    "caused_incidents",
    "resolves_problems",
)
M2M_FIELDS = ("services", "configuration_items", "caused_incidents", "resolves_problems")
#: What the risk and the conflicts are computed from: they are recomputed when one changes.
SCHEDULE_FIELDS = frozenset(
    {"planned_start", "planned_end", "configuration_items", "services", "assigned_to", "model"}
)
RISK_FIELDS = SCHEDULE_FIELDS | {"assignment_group", "outage_expected"}


def _require_staff(actor) -> None:
    if actor is not None and not writes.is_staff(actor):
        raise PermissionDenied


def _validate(change: Change, changed: set | None) -> None:
    def touched(*names) -> bool:
        return changed is None or any(name in changed for name in names)

    errors: dict = {}
    if touched("title") and not (change.title or "").strip():
        errors["title"] = gettext("Give the change a short title.")
    if touched("model") and change.model_id and not change.model.active and changed is None:
        errors["model"] = gettext("%(model)s is retired; choose an active change model.") % {
            "model": change.model
        }
    if touched("model") and changed is not None and change.state != ChangeState.NEW:
        errors["model"] = gettext("The change model is chosen before the change leaves new.")
    if (
        touched("planned_start", "planned_end")
        and change.planned_start
        and change.planned_end
        and change.planned_end <= change.planned_start
    ):
        errors["planned_end"] = gettext("The planned end is after the planned start.")
    if (
        touched("actual_start", "actual_end")
        and change.actual_start
        and change.actual_end
        and change.actual_end < change.actual_start
    ):
        errors["actual_end"] = gettext("The actual end is after the actual start.")
    if touched("risk_override", "risk_override_reason") and change.risk_override:
        if not (change.risk_override_reason or "").strip():
            errors["risk_override_reason"] = gettext("Say why the calculated risk is overridden.")
    if touched("closure_code") and change.closure_code in (
        ClosureCode.REJECTED,
        ClosureCode.CANCELLED,
    ):
        if change.state not in (ChangeState.CANCELLED,) and changed is not None:
            errors["closure_code"] = gettext("Rejected and cancelled are set by the platform.")
    writes.check_assignment(change, changed, errors)
    if touched("requested_by") and change.requested_by_id and not change.requested_by.is_active:
        errors["requested_by"] = gettext("%(user)s is not an active user.") % {
            "user": change.requested_by
        }
    writes.refuse(errors)


def _derive(change: Change, actor, step: writes.Write) -> None:
    if step.created:
        # A model whose path has no authorisation (standard: pre-authorised; registration:
        # recorded after the fact) needs none.
        needs = ChangeState.AUTHORISE in change.model.path
        change.approval_state = ApprovalState.NOT_REQUESTED if needs else ApprovalState.NOT_NEEDED
    if step.moved(to=ChangeState.CANCELLED) and not change.closure_code:
        change.closure_code = ClosureCode.CANCELLED
    writes.unassign_outside_group(change, actor, step)


def _after(change: Change, actor, step: writes.Write) -> None:
    if step.created:
        template = step.options.get("template")
        if template is not None:
            _open_template_tasks(change, template)
    # Conflicts and risk follow what they are computed from (``diff`` names what changed,
    # many-to-many values included), and are taken afresh when the change asks for
    # authorisation (its approval levels depend on the risk) or starts implementation.
    if (
        step.created
        or set(step.diff) & RISK_FIELDS
        or step.moved(to=ChangeState.AUTHORISE)
        or step.moved(to=ChangeState.IMPLEMENT)
    ):
        conflicts.detect(change)
        risk.calculate(change)
    if "risk_override" in step.diff:
        core.write_journal(
            change,
            JournalEntry.Kind.FIELDS,
            actor,
            body=said(
                gettext_noop("Risk overridden to %(risk)s: %(reason)s")
                if (change.risk_override_reason or "").strip()
                else gettext_noop("Risk overridden to %(risk)s:"),
                risk=risk.risk_word(change.risk_override)
                if change.risk_override
                else said(gettext_noop("the calculated risk")),
                reason=(change.risk_override_reason or "").strip(),
            ),
            internal=True,
        )
    if step.moved(to=ChangeState.AUTHORISE):
        approvals.request(change, actor)
    if step.moved(to=ChangeState.CANCELLED):
        approvals.withdraw(change)
        for task in change.tasks.filter(state__in=ChangeTask.OPEN_STATES):
            writes.change(
                TASK_SPEC,
                task,
                None,
                {
                    "state": TaskState.CANCELLED,
                    "close_notes": gettext("%(number)s was cancelled.") % {"number": change.number},
                },
            )


SPEC = writes.WriteSpec(
    model=Change,
    create=writes.Access(staff=EDITABLE_FIELDS, platform=(*EDITABLE_FIELDS, "template")),
    update=writes.Access(
        staff=(*EDITABLE_FIELDS, "state", "actual_start", "actual_end"),
        platform=(
            *EDITABLE_FIELDS,
            "state",
            "actual_start",
            "actual_end",
            "approval_state",
            "approval_level",
            "on_hold",
            "hold_reason",
            "follow_up_problem",
        ),
    ),
    m2m=M2M_FIELDS,
    quiet=("closed_at", "approval_level", "risk_calculated_at"),
    refused=_("This field cannot be changed."),
    initial=lambda actor, data, options: {
        "opened_by": actor,
        "requested_by": data.get("requested_by") or actor,
        "state": ChangeState.NEW,
    },
    derive=_derive,
    validate=_validate,
    created_data=lambda change: {"model": change.model.name},
    saved=None,
    after=_after,
    on_assign=writes.assigned_notice(_("change")),
)


def template_data(template: ChangeTemplate, start=None) -> dict:
    """The fields a standard change template fills in (the planned window from ``start``)."""
    data = {
        "title": template.name,
        "description": template.description,
        "model": template.model,
        "implementation_plan": template.implementation_plan,
        "backout_plan": template.backout_plan,
        "test_plan": template.test_plan,
        "outage_expected": template.outage_expected,
    }
    if template.category:
        data["category"] = template.category
    if template.assignment_group_id:
        data["assignment_group"] = template.assignment_group
    if start is not None:
        data["planned_start"] = start
        data["planned_end"] = start + timedelta(minutes=template.duration_minutes)
    return data


def open_change(actor, data: dict, template: ChangeTemplate | None = None) -> Change:
    """Raise a change (staff, or the platform with ``actor=None``: a pipeline's
    registration). With a ``template``, a standard change: the template's fields are the
    defaults, what ``data`` gives wins, and its tasks are opened."""
    _require_staff(actor)
    data = dict(data)
    if template is not None:
        if template.status != ChangeTemplate.Status.ACTIVE:
            raise ValidationError(
                {
                    "template": gettext("%(template)s is not an active template.")
                    % {"template": template}
                }
            )
        data = {**template_data(template, data.get("planned_start")), **data}
        data["model"] = template.model
        data["template"] = template
    if not data.get("model"):
        raise ValidationError({"model": _("Choose a change model.")})
    data.pop("template", None)
    change = writes.open(SPEC, actor, data, template=template)
    if template is not None:
        Change.objects.filter(pk=change.pk).update(template=template)
        change.template = template
    return change


def update_change(change: Change, actor, data: dict, expected_version=None) -> Change:
    """Change fields and/or the state in one step, checked by the workflow and the model."""
    _require_staff(actor)
    return writes.change(SPEC, change, actor, data, expected_version)


def platform_update(change: Change, data: dict, body: str | Said = "") -> Change:
    """A move the platform makes (an approval completing, a freeze holding): checked like
    any other, journalled as the platform's."""
    return writes.change(SPEC, change, None, data, state_note=body)


def comment(record, actor, body: str, internal: bool = False):
    _require_staff(actor)
    return core.add_comment(record, actor, body, internal)


def attach(record, actor, uploaded_file, internal: bool = False):
    _require_staff(actor)
    return core.add_attachment(record, actor, uploaded_file, internal)


# Tasks --------------------------------------------------------------------------------


TASK_FIELDS = (
    "title",
    "description",
    "stage",
    "assignment_group",
    "assigned_to",
    "planned_start",
    "planned_end",
    "close_notes",
)


def _task_validate(task: ChangeTask, changed: set | None) -> None:
    errors: dict = {}
    if (changed is None or "title" in changed) and not (task.title or "").strip():
        errors["title"] = gettext("Say what the task is.")
    if changed is None and not task.change.is_open:
        errors["change"] = gettext("%(number)s is %(state)s; it takes no new tasks.") % {
            "number": task.change.number,
            "state": task.change.state,
        }
    if task.planned_start and task.planned_end and task.planned_end <= task.planned_start:
        errors["planned_end"] = gettext("The planned end is after the planned start.")
    writes.check_assignment(task, changed, errors)
    writes.refuse(errors)


def _task_derive(task: ChangeTask, actor, step: writes.Write) -> None:
    """Stages run in sequence: a task starts or closes once every task of earlier stages is
    done (a cancel is always allowed)."""
    if step.transition is None or step.transition.target not in (
        TaskState.IN_PROGRESS,
        TaskState.CLOSED,
    ):
        return
    earlier = list(
        ChangeTask.objects.filter(
            change_id=task.change_id, stage__lt=task.stage, state__in=ChangeTask.OPEN_STATES
        )
        .order_by("stage", "number")
        .values_list("number", flat=True)
    )
    if earlier:
        raise ValidationError(
            {
                "state": gettext("Earlier stages come first: %(tasks)s still open.")
                % {"tasks": ", ".join(earlier)}
            }
        )


def _task_after(task: ChangeTask, actor, step: writes.Write) -> None:
    if step.created:
        core.write_journal(
            task.change,
            JournalEntry.Kind.FIELDS,
            actor,
            body=said(
                gettext_noop("Task %(number)s (stage %(stage)s) for %(team)s."),
                number=task.number,
                stage=task.stage,
                team=str(task.assignment_group)
                if task.assignment_group
                else said(gettext_noop("nobody yet")),
            ),
            internal=True,
        )


TASK_SPEC = writes.WriteSpec(
    model=ChangeTask,
    create=writes.Access(staff=(*TASK_FIELDS, "change"), platform=(*TASK_FIELDS, "change")),
    update=writes.Access(staff=(*TASK_FIELDS, "state")),
    quiet=("closed_at",),
    refused=_("This field cannot be changed."),
    initial=lambda actor, data, options: {"state": TaskState.OPEN},
    derive=_task_derive,
    validate=_task_validate,
    created_data=lambda task: {"change": task.change.number},
    after=_task_after,
    on_assign=writes.assigned_notice(_("change task")),
)


def open_task(actor, data: dict) -> ChangeTask:
    _require_staff(actor)
    return writes.open(TASK_SPEC, actor, data)


def update_task(task: ChangeTask, actor, data: dict, expected_version=None) -> ChangeTask:
    _require_staff(actor)
    return writes.change(TASK_SPEC, task, actor, data, expected_version)


def _open_template_tasks(change: Change, template: ChangeTemplate) -> None:
    for task in template.tasks.select_related("team"):
        writes.open(
            TASK_SPEC,
            None,
            {
                "title": task.title,
                "change": change,
                "stage": task.stage,
                "assignment_group": task.team,
            },
        )


# Review -------------------------------------------------------------------------------------


@transaction.atomic
def raise_follow_up_problem(change: Change, actor):
    """A failed or backed-out change: a problem prefilled from it, linked both ways."""
    from problems import services as problem_services

    _require_staff(actor)
    change = core.lock(change)
    if not change.is_unsuccessful:
        raise ValidationError(
            {"closure_code": _("A follow-up problem is for a failed or backed-out change.")}
        )
    if change.follow_up_problem_id:
        raise ValidationError(
            {
                "follow_up_problem": gettext("%(number)s already follows it up.")
                % {"number": change.follow_up_problem.number}
            }
        )
    problem = problem_services.open_problem(
        actor,
        {
            "title": (
                gettext("%(outcome)s change: %(title)s")
                % {"outcome": change.get_closure_code_display(), "title": change.title}
            )[:200],
            "description": (
                gettext("Raised from %(number)s (%(outcome)s).")
                % {
                    "number": change.number,
                    "outcome": change.get_closure_code_display().lower(),
                }
                + f"\n\n{change.closure_notes}"
            ).strip(),
            "assignment_group": change.assignment_group,
            "services": list(change.services.all()),
            "configuration_items": list(change.configuration_items.all()),
            "incidents": list(change.caused_incidents.all()),
        },
    )
    Change.objects.filter(pk=change.pk).update(follow_up_problem=problem)
    change.follow_up_problem = problem
    writes.touch(
        change,
        actor,
        body=said(gettext_noop("Follow-up problem %(number)s raised."), number=problem.number),
    )
    return problem
