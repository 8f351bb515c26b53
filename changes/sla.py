"""How changes take part in service level management: an agreement on changes (e.g.
"emergency changes are authorised within an hour", matching ``kind`` emergency) runs its
response target until the authorisation is decided and its resolution target until the
change is closed. The emergency change authority's short deadline is such a target."""

from practices.service_level.registry import Profile

from .models import ApprovalState
from .workflows import ChangeState

DECIDED = (ApprovalState.APPROVED, ApprovalState.REJECTED, ApprovalState.NOT_NEEDED)


def attributes(change) -> dict:
    return {
        "kind": change.model.kind,
        "model": change.model_id,
        "risk": change.effective_risk,
        "assignment_group": change.assignment_group_id,
        "state": change.state,
    }


PROFILE = Profile(
    attributes=attributes,
    # The response is the authorisation decided (or not needed: a standard change).
    responded_at=lambda change: change.updated_at if change.approval_state in DECIDED else None,
    resolved_at=lambda change: change.closed_at if change.state == ChangeState.CLOSED else None,
    cancelled=lambda change: change.state == ChangeState.CANCELLED,
)
