"""A change's authorisation: the approval policy's levels, by risk, decided in order.

(Filled in by the approvals work: requesting the levels, deciding, the CAB and the
emergency change authority.)"""

from .models import ApprovalState


def authorisation_missing(change) -> str | None:
    """What stops the change from being scheduled for lack of authorisation, or None."""
    if change.approval_state in (ApprovalState.APPROVED, ApprovalState.NOT_NEEDED):
        return None
    if change.approval_state == ApprovalState.REJECTED:
        return "The change was not authorised."
    return "Needs its authorisation (every approval level approved)."


def request(change, actor) -> None:
    """The change entered authorise: open the first level of its policy that applies."""


def withdraw(change) -> None:
    """The change was cancelled: pending approvals are no longer needed."""


def panel(change, user) -> dict:
    """What the change page's authorisation block shows (``templates/changes/_approvals.html``)."""
    return {"approvals": list(change.approvals.select_related("approver").order_by("level", "pk"))}
