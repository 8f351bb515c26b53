"""The change lifecycle (ITIL 4 change enablement):

new → assess → authorise → scheduled → implement → review → closed, or cancelled.

Which of those states a change passes through is its **change model's** (administered
without code): a standard change (pre-authorised, from a template) goes new → scheduled; an
emergency change skips assessment; a registration (recorded after the fact, e.g. by a
pipeline) goes new → review → closed. A model also says which fields (plans, the planned
window) are required to enter each state. The workflow below therefore holds every forward
step of the canonical order; a step is offered only when it is the next one on the change's
model's path, and its guards name what is missing.

* **scheduled** from authorise needs the authorisation (the approval policy's levels all
  approved; ``changes.approvals``).
* **implement** needs a planned window, and is refused while the change is on hold (a
  freeze) or inside a blackout window (checked at that moment, ``changes.conflicts``);
  emergency changes may implement during a blackout, journalled.
* **review** needs every change task closed or cancelled.
* **closed** needs a closure code (the outcome of the post-implementation review).
* **cancelled** from any state before review, with closure notes.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.workflow import TaskState, Transition, Workflow, staff_only


class ChangeState(models.TextChoices):
    NEW = "new", _("New")
    ASSESS = "assess", _("Assess")
    AUTHORISE = "authorise", _("Authorise")
    SCHEDULED = "scheduled", _("Scheduled")
    IMPLEMENT = "implement", _("Implement")
    REVIEW = "review", _("Review")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


S = ChangeState
#: The canonical order every change model's path is a sub-sequence of.
ORDER = (S.NEW, S.ASSESS, S.AUTHORISE, S.SCHEDULED, S.IMPLEMENT, S.REVIEW, S.CLOSED)
#: Still being worked (the queue's "open"; conflicts and the calendar look at these).
OPEN = frozenset({S.NEW, S.ASSESS, S.AUTHORISE, S.SCHEDULED, S.IMPLEMENT, S.REVIEW})
#: Before implementation: may still be cancelled; a freeze puts these on hold.
BEFORE_IMPLEMENTATION = frozenset({S.NEW, S.ASSESS, S.AUTHORISE, S.SCHEDULED})
#: In flight: booked in the schedule (conflicts are looked for among these).
IN_FLIGHT = frozenset({S.NEW, S.ASSESS, S.AUTHORISE, S.SCHEDULED, S.IMPLEMENT})

LABELS = {
    S.ASSESS: _("Assess"),
    S.AUTHORISE: _("Request authorisation"),
    S.SCHEDULED: _("Schedule"),
    S.IMPLEMENT: _("Start implementation"),
    S.REVIEW: _("Review"),
    S.CLOSED: _("Close"),
}

#: Human names of the fields a model may require, for the guards' messages.
FIELD_NAMES = {
    "implementation_plan": _("an implementation plan"),
    "backout_plan": _("a backout plan"),
    "test_plan": _("a test plan"),
    "justification": _("a justification"),
    "planned_start": _("a planned start"),
    "planned_end": _("a planned end"),
    "assignment_group": _("an assignment group"),
    "assigned_to": _("an assignee"),
    "configuration_items": _("the CIs affected"),
    "services": _("the services affected"),
    "closure_code": _("a closure code"),
}


def path_of(change) -> list[str]:
    model = getattr(change, "model", None)
    if model is None:
        return list(ORDER)
    return list(model.path)


def _next_on_path(change, source: str, target: str) -> bool:
    path = path_of(change)
    return source in path and target in path and path.index(target) == path.index(source) + 1


def _on_path(target: str):
    def allowed(change, user) -> bool:
        return staff_only(change, user) and _next_on_path(change, change.state, target)

    return allowed


def missing_fields(change, target: str) -> list[str]:
    """The fields the change's model requires to enter ``target`` that are empty."""
    model = getattr(change, "model", None)
    required = model.required_for(target) if model is not None else ()
    missing = []
    for name in required:
        if name in ("configuration_items", "services"):
            if change.pk is None or not getattr(change, name).exists():
                missing.append(name)
            continue
        value = getattr(change, name, None)
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            missing.append(name)
    return missing


def _model_requires(target: str):
    def guard(change, user) -> str | None:
        missing = missing_fields(change, target)
        if missing:
            names = ", ".join(
                str(FIELD_NAMES.get(name, name.replace("_", " "))) for name in missing
            )
            return gettext("Needs %(fields)s before %(state)s.") % {
                "fields": names,
                "state": ChangeState(target).label.lower(),
            }
        return None

    return guard


def authorised(change, user) -> str | None:
    from .approvals import authorisation_missing

    return authorisation_missing(change)


def window_planned(change, user) -> str | None:
    if change.planned_start and change.planned_end and change.planned_end <= change.planned_start:
        return gettext("The planned end is before the planned start.")
    return None


def may_implement_now(change, user) -> str | None:
    from .conflicts import implementation_refusal

    return implementation_refusal(change, timezone.now())


def tasks_closed(change, user) -> str | None:
    if change.pk is None:
        return None
    from .models import ChangeTask

    numbers = list(
        ChangeTask.objects.filter(change=change, state__in=ChangeTask.OPEN_STATES)
        .order_by("number")
        .values_list("number", flat=True)
    )
    if numbers:
        return gettext("Close its tasks first: %(tasks)s.") % {"tasks": ", ".join(numbers)}
    return None


def start_implementation(change, user):
    if change.actual_start is None:
        change.actual_start = timezone.now()


def end_implementation(change, user):
    if change.actual_end is None:
        change.actual_end = timezone.now()


def mark_closed(change, user):
    change.closed_at = timezone.now()
    if change.actual_end is None and change.actual_start is not None:
        change.actual_end = change.closed_at


def _guards(target: str) -> tuple:
    guards = [_model_requires(target)]
    if target == S.SCHEDULED:
        guards += [authorised, window_planned]
    if target == S.IMPLEMENT:
        guards += [window_planned, may_implement_now]
    if target == S.REVIEW:
        guards.append(tasks_closed)
    return tuple(guards)


def _effects(target: str) -> tuple:
    return {
        S.IMPLEMENT: (start_implementation,),
        S.REVIEW: (start_implementation, end_implementation),
        S.CLOSED: (mark_closed,),
    }.get(target, ())


def _transitions() -> list[Transition]:
    transitions = []
    for index, target in enumerate(ORDER[1:], start=1):
        transitions.append(
            Transition(
                frozenset(ORDER[:index]),
                target,
                LABELS[target],
                requires=("closure_code",) if target == S.CLOSED else (),
                allowed=_on_path(target),
                guards=_guards(target),
                effects=_effects(target),
                style="primary",
            )
        )
    transitions.append(
        Transition(
            BEFORE_IMPLEMENTATION,
            S.CANCELLED,
            _("Cancel"),
            requires=("closure_notes",),
            effects=(mark_closed,),
            style="danger",
        )
    )
    return transitions


change_workflow = Workflow(
    states=ChangeState.choices, initial=S.NEW, open_states=OPEN, transitions=_transitions()
)


def _task_closed(task, user):
    task.closed_at = timezone.now()


def _task_reopened(task, user):
    task.closed_at = None


task_workflow = Workflow(
    states=TaskState.choices,
    initial=TaskState.OPEN,
    open_states=frozenset({TaskState.OPEN, TaskState.IN_PROGRESS}),
    transitions=[
        Transition(frozenset({TaskState.OPEN}), TaskState.IN_PROGRESS, _("Start"), style="primary"),
        Transition(
            frozenset({TaskState.OPEN, TaskState.IN_PROGRESS}),
            TaskState.CLOSED,
            _("Close"),
            requires=("close_notes",),
            effects=(_task_closed,),
            style="primary",
        ),
        Transition(
            frozenset({TaskState.OPEN, TaskState.IN_PROGRESS}),
            TaskState.CANCELLED,
            _("Cancel"),
            requires=("close_notes",),
            effects=(_task_closed,),
            style="danger",
        ),
        Transition(
            frozenset({TaskState.CLOSED, TaskState.CANCELLED}),
            TaskState.OPEN,
            _("Reopen"),
            effects=(_task_reopened,),
        ),
    ],
)
