"""How service requests take part in service level management: the clock runs from
ordering to fulfilment and stops while the request waits for approval."""

from practices.service_level.registry import Profile

from .workflows import RequestState


def attributes(request) -> dict:
    return {
        "item": request.item_id,
        "service": request.item.service_id,
        "organization": request.requested_for.organization_id,
        "assignment_group": request.assignment_group_id,
        "state": request.state,
    }


def resolved_at(request):
    if request.state in (RequestState.FULFILLED, RequestState.CLOSED):
        return request.fulfilled_at or request.closed_at
    return None


PROFILE = Profile(
    attributes=attributes,
    # A request's "response" is its approval decision (or its start when none is needed).
    responded_at=lambda request: (
        request.updated_at
        if request.state not in (RequestState.SUBMITTED, RequestState.AWAITING_APPROVAL)
        else None
    ),
    resolved_at=resolved_at,
    cancelled=lambda request: request.state in (RequestState.CANCELLED, RequestState.REJECTED),
    default_pause_when=[{"state": "awaiting_approval"}],
)
