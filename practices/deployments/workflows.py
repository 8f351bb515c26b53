"""The deployment lifecycle (ITIL 4 deployment management): the deployment's status.

planned → in progress → succeeded or failed; rolled back from in progress, succeeded or
failed.

* **in progress**: started by a person only when the gate of its change allows it now
  (``devops.gate``: no freeze, no blackout, authorised); a pipeline asks the gate itself
  and reports its outcome, which the platform records as it happened.
* **succeeded** records the deployed version on the CIs the deployment names, in the
  CMDB's history (``services``).
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.workflow import Transition, Workflow


class DeploymentState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    ROLLED_BACK = "rolled_back", _("Rolled back")


S = DeploymentState
OPEN = frozenset({S.PLANNED, S.IN_PROGRESS})
FINISHED = frozenset({S.SUCCEEDED, S.FAILED, S.ROLLED_BACK})


def gate_allows(deployment, user) -> str | None:
    """A person starts a deployment only when its gate allows it at this moment (the
    platform records what a pipeline did, so it is not held back)."""
    if user is None or deployment.change_id is None:
        return None
    from .devops import gate

    decision = gate(deployment, record=False)
    if decision.decision != "allowed":
        return gettext("The gate does not allow it now: %(reasons)s") % {
            "reasons": " ".join(decision.reasons)
        }
    return None


def started(deployment, user):
    if deployment.started_at is None:
        deployment.started_at = timezone.now()


def ended(deployment, user):
    started(deployment, user)
    deployment.ended_at = timezone.now()


deployment_workflow = Workflow(
    states=DeploymentState.choices,
    initial=S.PLANNED,
    open_states=OPEN,
    transitions=[
        Transition(
            frozenset({S.PLANNED}),
            S.IN_PROGRESS,
            _("Start"),
            guards=(gate_allows,),
            effects=(started,),
            style="primary",
        ),
        Transition(
            frozenset({S.IN_PROGRESS}),
            S.SUCCEEDED,
            _("Succeeded"),
            effects=(ended,),
            style="primary",
        ),
        Transition(
            frozenset({S.IN_PROGRESS}), S.FAILED, _("Failed"), effects=(ended,), style="danger"
        ),
        Transition(
            frozenset({S.IN_PROGRESS, S.SUCCEEDED, S.FAILED}),
            S.ROLLED_BACK,
            _("Rolled back"),
            effects=(ended,),
            style="danger",
        ),
    ],
)
