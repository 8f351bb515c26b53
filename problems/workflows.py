"""The problem lifecycle (ITIL 4 problem control and error control):

new → assessed → root cause analysis → known error → resolved → closed

* **assessed** needs an assignment group: someone owns the problem and has prioritised it
  by risk (impact x probability).
* **root cause analysis** needs an assignment group as well (from new or assessed).
* **known error** needs a workaround *or* a documented root cause (a cause marked as the
  root cause): a problem that has been analysed, or that at least has a documented way to
  reduce its incidents' impact, is what people look up in the known error database.
* **resolved** needs resolution notes (what fixed the error; typically names the change).
  Resolving may also resolve the problem's open incidents (see ``services``).
* **closed** from resolved; a problem that will not be fixed (a duplicate, an accepted
  risk, not reproducible) is closed from any open state with the reason in the
  resolution notes.
* A resolved problem whose fix did not hold is reopened to root cause analysis; a known
  error may go back to analysis.

The workaround can be written at any stage (it does not wait for analysis) and is kept
after resolution for the record.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.workflow import Transition, Workflow


class ProblemState(models.TextChoices):
    NEW = "new", _("New")
    ASSESSED = "assessed", _("Assessed")
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis", _("Root cause analysis")
    KNOWN_ERROR = "known_error", _("Known error")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


S = ProblemState
#: States in which a problem is still being worked (the queue's "open").
OPEN = frozenset({S.NEW, S.ASSESSED, S.ROOT_CAUSE_ANALYSIS, S.KNOWN_ERROR})


def has_workaround_or_root_cause(problem, user) -> str | None:
    if (problem.workaround or "").strip():
        return None
    if problem.pk and problem.causes.filter(is_root_cause=True).exists():
        return None
    return gettext(
        "A known error needs a workaround or a documented root cause "
        "(add a cause marked as the root cause)."
    )


def mark_known_error(problem, user):
    if problem.known_error_at is None:  # the first time counts (mean time to known error)
        problem.known_error_at = timezone.now()


def mark_resolved(problem, user):
    problem.resolved_at = timezone.now()


def mark_closed(problem, user):
    problem.closed_at = timezone.now()


def mark_reopened(problem, user):
    problem.resolved_at = None
    problem.resolution_notes = ""


problem_workflow = Workflow(
    states=ProblemState.choices,
    initial=S.NEW,
    open_states=OPEN,
    transitions=[
        Transition(
            frozenset({S.NEW}),
            S.ASSESSED,
            _("Assess"),
            requires=("assignment_group",),
            style="primary",
        ),
        Transition(
            frozenset({S.NEW, S.ASSESSED, S.KNOWN_ERROR}),
            S.ROOT_CAUSE_ANALYSIS,
            _("Analyse root cause"),
            requires=("assignment_group",),
        ),
        Transition(
            frozenset({S.NEW, S.ASSESSED, S.ROOT_CAUSE_ANALYSIS}),
            S.KNOWN_ERROR,
            _("Mark as known error"),
            guards=(has_workaround_or_root_cause,),
            effects=(mark_known_error,),
            style="primary",
        ),
        Transition(
            OPEN,
            S.RESOLVED,
            _("Resolve"),
            requires=("resolution_notes",),
            effects=(mark_resolved,),
            style="primary",
        ),
        Transition(
            frozenset({S.RESOLVED}),
            S.ROOT_CAUSE_ANALYSIS,
            _("Reopen"),
            effects=(mark_reopened,),
        ),
        Transition(frozenset({S.RESOLVED}), S.CLOSED, "Close", effects=(mark_closed,)),
        Transition(
            OPEN,
            S.CLOSED,
            _("Close without fix"),
            requires=("resolution_notes",),
            effects=(mark_closed,),
            style="danger",
        ),
    ],
)
