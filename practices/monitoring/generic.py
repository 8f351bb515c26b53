"""Our generic JSON event, for whatever has no receiver of its own (a script, a cron job, a
tool that can post JSON): one object, or a list of them, each::

    {"source": "backup-cron", "node": "db-01", "type": "backup", "resource": "/srv/pg",
     "metric": "age_hours", "message_key": "", "severity": "major", "status": "firing",
     "description": "Last backup is 30 hours old", "additional_info": {"age": 30},
     "time": "2026-12-08T03:00:00+01:00"}

``severity`` is one of ``SEVERITIES`` (warning when not given); ``clear`` says the
condition is over, as ``status: resolved`` does. The event's key is ``message_key`` when
given, else ``source|node|type|resource|metric``, of which at least one of node, type,
resource and metric must be given."""

from django.utils.translation import gettext_lazy as _

from .events import (
    FIRING,
    MAX_ALERTS,
    NAME_LENGTH,
    RESOLVED,
    SEVERITIES,
    SUMMARY_LENGTH,
    Event,
    PayloadRefused,
    bounded_key,
    items,
    mapping,
    moment,
    one_of,
    text,
)

SOURCE_KIND = "generic"
DEFAULT_SEVERITY = "warning"
CLEAR = "clear"
#: The fields a key is made of when no ``message_key`` is given.
KEY_FIELDS = ("source", "node", "type", "resource", "metric")
#: At least one of these is needed to tell one condition from another.
IDENTIFYING = ("node", "type", "resource", "metric")


def _key_part(value: str) -> str:
    # Escaped so that no two different sets of fields make the same key.
    return value.replace("\\", "\\\\").replace("|", "\\|")


def read_event(event, prefix: str) -> Event:
    """One generic event; ``prefix`` is its place in the body (``""``, or ``[2].``)."""
    if not isinstance(event, dict):
        raise PayloadRefused(prefix.rstrip(".") or "body", _("An object is expected."))
    fields = {
        name: text(event.get(name), f"{prefix}{name}", limit=NAME_LENGTH) for name in KEY_FIELDS
    }
    message_key = text(event.get("message_key"), f"{prefix}message_key")
    if not message_key and not any(fields[name] for name in IDENTIFYING):
        raise PayloadRefused(
            f"{prefix}node",
            _(
                "Say what the event is about: at least one of node, type, resource and "
                "metric (or a message_key)."
            ),
        )
    severity = one_of(
        event.get("severity"), f"{prefix}severity", SEVERITIES, default=DEFAULT_SEVERITY
    )
    status = one_of(event.get("status"), f"{prefix}status", (FIRING, RESOLVED), default="")
    if severity == CLEAR:
        if status == FIRING:
            raise PayloadRefused(
                f"{prefix}status",
                _("A clear severity says the condition is over: the status cannot be firing."),
            )
        status = RESOLVED
    status = status or FIRING
    description = text(event.get("description"), f"{prefix}description")
    summary = text(event.get("summary"), f"{prefix}summary").strip()
    if not summary and description.strip():
        summary = description.strip().splitlines()[0]
    if not summary:
        about = fields["type"] or fields["metric"] or fields["resource"] or message_key
        summary = f"{about} on {fields['node']}" if fields["node"] else about
    if message_key:
        key = message_key
    else:
        key = "|".join(_key_part(fields[name]) for name in KEY_FIELDS)
    occurred_at = moment(event.get("time"), f"{prefix}time")
    return Event(
        source_kind=SOURCE_KIND,
        key=bounded_key(key),
        status=status,
        severity=severity,
        summary=summary[:SUMMARY_LENGTH],
        description=description,
        node=fields["node"],
        resource=fields["resource"],
        metric=fields["metric"],
        event_type=fields["type"],
        occurred_at=occurred_at,
        ended_at=occurred_at if status == RESOLVED else None,
        labels=mapping(event.get("additional_info"), f"{prefix}additional_info"),
        raw=event,
    )


def read(payload) -> list[Event]:
    """The events of a generic JSON body (an object, or a list of at most ``MAX_ALERTS``);
    ``PayloadRefused`` names the field at fault (``[2].severity`` in a list)."""
    if isinstance(payload, list):
        return [
            read_event(event, f"[{i}].")
            for i, event in enumerate(items(payload, "body", limit=MAX_ALERTS))
        ]
    if not isinstance(payload, dict):
        raise PayloadRefused("body", _("A JSON object or a list of objects is expected."))
    return [read_event(payload, "")]
