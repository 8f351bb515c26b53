"""How incidents take part in service level management."""

from practices.service_level.registry import Profile

from .workflows import IncidentState


def attributes(incident) -> dict:
    return {
        "priority": incident.priority,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "service": incident.service_id,
        "organization": incident.caller.organization_id if incident.caller_id else None,
        "category": incident.category_id,
        "subcategory": incident.subcategory_id,
        "assignment_group": incident.assignment_group_id,
        "state": incident.state,
        "on_hold_reason": incident.on_hold_reason,
        "channel": incident.channel,
        "major": incident.major,
    }


def resolved_at(incident):
    if incident.state in (IncidentState.RESOLVED, IncidentState.CLOSED):
        return incident.resolved_at or incident.closed_at
    return None


def raise_priority(incident, actor) -> None:
    from . import services

    if incident.urgency > 1:
        services.update_incident(incident, actor, {"urgency": incident.urgency - 1})
    elif incident.impact > 1:
        services.update_incident(incident, actor, {"impact": incident.impact - 1})
    incident.refresh_from_db()


def reassign(incident, team, actor) -> None:
    from . import services

    services.update_incident(incident, actor, {"assignment_group": team})
    incident.refresh_from_db()


PROFILE = Profile(
    attributes=attributes,
    responded_at=lambda incident: incident.first_response_at,
    resolved_at=resolved_at,
    cancelled=lambda incident: incident.state == IncidentState.CANCELLED,
    default_pause_when=[
        {"state": "on_hold", "on_hold_reason": "awaiting_caller"},
        {"state": "on_hold", "on_hold_reason": "awaiting_supplier"},
    ],
    raise_priority=raise_priority,
    reassign=reassign,
)
