"""The agent home's "Awaiting my approval" block: how many requests wait for the agent's
decision, the oldest few, and a link to the approvals page (two queries)."""

from .services import pending_approvals

SHOWN = 5


def approvals(request) -> dict | None:
    waiting = pending_approvals(request.user).order_by("created_at", "pk")
    rows = list(waiting[:SHOWN])
    if not rows:
        return None
    return {
        "approvals": rows,
        "approval_count": waiting.count() if len(rows) == SHOWN else len(rows),
    }
