"""Zabbix: the body our webhook media type posts (``zabbix_media/itsm_webhook.yaml``).

The media type's script posts its parameters as a JSON object, all values strings as
Zabbix expands them (``event_tags`` parsed into its array when it is valid JSON), less
its own settings (``itsm_url``, ``itsm_token``, ``HTTPProxy``)::

    event_source              {EVENT.SOURCE}       0 trigger, 3 internal, 4 service
    event_id                  {EVENT.ID}           the problem's id, in a recovery too
    event_recovery_id         {EVENT.RECOVERY.ID}
    event_value               {EVENT.VALUE}        1 problem, 0 recovery
    event_update_status       {EVENT.UPDATE.STATUS}  1 when a person updated the problem
    event_update_action       {EVENT.UPDATE.ACTION}  "acknowledged", "commented"…
    event_update_message      {EVENT.UPDATE.MESSAGE}
    event_update_user         {USER.FULLNAME}
    event_ack_status          {EVENT.ACK.STATUS}   Yes / No
    event_name                {EVENT.NAME}
    event_severity            {EVENT.SEVERITY}     Not classified … Disaster
    event_nseverity           {EVENT.NSEVERITY}    0 … 5 (read first: names can be renamed)
    event_opdata              {EVENT.OPDATA}
    event_timestamp           {EVENT.TIMESTAMP}    Unix seconds (read first)
    event_date, event_time    {EVENT.DATE} {EVENT.TIME}  yyyy.mm.dd hh:mm:ss
    event_recovery_timestamp  {EVENT.RECOVERY.TIMESTAMP}
    event_recovery_date, event_recovery_time  {EVENT.RECOVERY.DATE} {EVENT.RECOVERY.TIME}
    event_tags                {EVENT.TAGSJSON}     [{"tag": …, "value": …}]
    event_url                 {$ZABBIX.URL}/tr_events.php?triggerid={TRIGGER.ID}&eventid={EVENT.ID}
    host_host, host_name, host_ip  {HOST.HOST} {HOST.NAME} {HOST.IP}
    trigger_id, trigger_name, trigger_description, trigger_url
                              {TRIGGER.ID} {TRIGGER.NAME} {TRIGGER.DESCRIPTION} {TRIGGER.URL}
    itsm_incident             {EVENT.TAGS.__itsm_incident}  our incident, once written back
    timezone                  the Zabbix server's time zone (IANA name), for
                              {EVENT.DATE}/{EVENT.TIME} when {EVENT.TIMESTAMP} is missing

How it reads:

- A macro Zabbix left unexpanded (a value that is just ``{EVENT.TAGSJSON}``,
  ``{$ZABBIX.URL}``…; Zabbix leaves a macro it does not support in that operation as it
  is) and Zabbix's ``*UNKNOWN*`` read as empty, never as data; a URL holding an
  unexpanded macro, or not http(s), is left out.
- The key is the Zabbix problem event's id (``event_id``: in a recovery or an update,
  ``{EVENT.ID}`` is the problem's id, ``{EVENT.RECOVERY.ID}`` the recovery's), and so is
  ``source_event_id``: the problem, its updates and its recovery are one alert.
- Status: ``event_value`` 0 → resolved (``ended_at`` the recovery's time); 1 with
  ``event_update_status`` 1 → acknowledged when ``event_ack_status`` is Yes, else firing
  (a comment, a severity change); else firing.
- Severity from ``event_nseverity`` (0 and 1 → info, 2 → warning, 3 → minor, 4 → major,
  5 → critical), else from the name in ``event_severity`` (a recovery keeps its
  problem's, as Zabbix sends it); with neither, a problem is refused, a recovery reads as
  ``clear`` and an update as ``info``.
- Summary: ``event_name``, else ``trigger_name``; node: ``host_host``, else ``host_name``.
- Labels: the event's tags (a tag given twice: its values joined by ", "; our own
  ``__itsm_*`` tags left out) and ``zabbix.host``, ``zabbix.host_name``, ``zabbix.host_ip``,
  ``zabbix.trigger_id``, ``zabbix.severity``, ``zabbix.recovery_event_id``,
  ``zabbix.update_action``, ``zabbix.update_user``, ``zabbix.acknowledged``,
  ``zabbix.itsm_incident``, ``zabbix.opdata`` (those given).
- Description: the trigger's description; for an update, who did what and their message
  first.
"""

import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext_lazy as _

from .events import (
    ACKNOWLEDGED,
    FIRING,
    MAX_LABELS,
    NAME_LENGTH,
    RESOLVED,
    SUMMARY_LENGTH,
    TEXT_LENGTH,
    Event,
    PayloadRefused,
    payload_object,
    text,
)

SOURCE_KIND = "zabbix"

#: Event sources with problems: trigger, internal, service.
EVENT_SOURCES = {"0": "trigger", "3": "internal", "4": "service"}
#: {EVENT.NSEVERITY} → our severity.
NUMBERED_SEVERITIES = {
    "0": "info",
    "1": "info",
    "2": "warning",
    "3": "minor",
    "4": "major",
    "5": "critical",
}
#: {EVENT.SEVERITY}'s default names → our severity.
NAMED_SEVERITIES = {
    "not classified": "info",
    "information": "info",
    "warning": "warning",
    "average": "minor",
    "high": "major",
    "disaster": "critical",
}

#: A whole value that is one Zabbix macro: {EVENT.ID}, {$USER.MACRO}, {$M:"context"},
#: {#LLD.MACRO}, {EVENT.TAGS.name}, {{EVENT.TIMESTAMP}.fmttime(...)}.
_NAME = r"[$#]?[A-Z][A-Z0-9_]*(?:\.[A-Za-z0-9_]+)*(?::[^{}]*)?"
_MACRO = re.compile(rf"\{{(?:{_NAME}|\{{{_NAME}\}}\.[a-z]+\([^()]*\))\}}")
_WHOLE_MACRO = re.compile(rf"\s*{_MACRO.pattern}\s*")
_UNKNOWN = "*UNKNOWN*"
_ID = re.compile(r"[0-9]{1,20}")


def unexpanded(value: str) -> bool:
    """Whether a value is a Zabbix macro left as it is (or Zabbix's ``*UNKNOWN*``)."""
    return value.strip() == _UNKNOWN or _WHOLE_MACRO.fullmatch(value) is not None


def read(payload) -> list[Event]:
    """The one event our media type's body carries; ``PayloadRefused`` names the field
    at fault."""
    payload = payload_object(payload)

    def value(name: str, *, limit: int = TEXT_LENGTH, required: bool = False) -> str:
        read_value = text(payload.get(name), name, limit=limit)
        if unexpanded(read_value):
            read_value = ""
        if required and not read_value:
            raise PayloadRefused(name, _("This field is required."))
        return read_value

    source = value("event_source", limit=NAME_LENGTH) or "0"
    if source not in EVENT_SOURCES:
        raise PayloadRefused(
            "event_source",
            _("Only trigger (0), internal (3) and service (4) events are read."),
        )
    event_id = _event_id(value("event_id", limit=64, required=True), "event_id")
    recovery_id = value("event_recovery_id", limit=64)
    if recovery_id:
        recovery_id = _event_id(recovery_id, "event_recovery_id")

    event_value = value("event_value", limit=NAME_LENGTH, required=True)
    if event_value not in ("0", "1"):
        raise PayloadRefused("event_value", _("One of: %(values)s.") % {"values": "0, 1"})
    update = value("event_update_status", limit=NAME_LENGTH) or "0"
    if update not in ("0", "1"):
        raise PayloadRefused("event_update_status", _("One of: %(values)s.") % {"values": "0, 1"})
    acknowledged = value("event_ack_status", limit=NAME_LENGTH)
    if event_value == "0":
        status = RESOLVED
    elif update == "1" and acknowledged.lower() == "yes":
        status = ACKNOWLEDGED
    else:
        status = FIRING

    zabbix_severity = value("event_severity", limit=NAME_LENGTH)
    severity = _severity(value("event_nseverity", limit=NAME_LENGTH), zabbix_severity)
    if not severity:
        if status == RESOLVED:
            severity = "clear"
        elif update == "1":
            severity = "info"
        else:
            raise PayloadRefused("event_nseverity", _("This field is required."))

    summary = value("event_name") or value("trigger_name")
    if not summary:
        raise PayloadRefused("event_name", _("This field is required."))

    timezone = _timezone(value("timezone", limit=NAME_LENGTH))
    occurred_at = _when(payload, "event", value, timezone)
    ended_at = _when(payload, "event_recovery", value, timezone) if status == RESOLVED else None

    host = value("host_host", limit=NAME_LENGTH)
    host_name = value("host_name", limit=NAME_LENGTH)
    update_action = value("event_update_action", limit=NAME_LENGTH)
    update_user = value("event_update_user", limit=NAME_LENGTH)
    labels = _tags(payload.get("event_tags"))
    for name, item in (
        ("zabbix.host", host),
        ("zabbix.host_name", host_name),
        ("zabbix.host_ip", value("host_ip", limit=NAME_LENGTH)),
        ("zabbix.trigger_id", value("trigger_id", limit=64)),
        ("zabbix.severity", zabbix_severity),
        ("zabbix.recovery_event_id", recovery_id),
        ("zabbix.update_action", update_action if update == "1" else ""),
        ("zabbix.update_user", update_user if update == "1" else ""),
        ("zabbix.acknowledged", acknowledged),
        ("zabbix.itsm_incident", value("itsm_incident", limit=NAME_LENGTH)),
        ("zabbix.opdata", value("event_opdata")),
    ):
        if item:
            labels[name] = item
    if len(labels) > MAX_LABELS:
        raise PayloadRefused("event_tags", _("At most %(n)d entries.") % {"n": MAX_LABELS})

    description = value("trigger_description")
    if update == "1":
        said = " ".join(part for part in (update_user, update_action) if part)
        message = value("event_update_message")
        update_text = "\n".join(part for part in (said, message) if part)
        description = "\n\n".join(part for part in (update_text, description) if part)

    links = []
    for name, title in (("event_url", "Zabbix event"), ("trigger_url", "Trigger URL")):
        url = _url(value(name))
        if url:
            links.append({"href": url, "text": title})

    return [
        Event(
            source_kind=SOURCE_KIND,
            key=event_id,
            status=status,
            severity=severity,
            summary=summary[:SUMMARY_LENGTH],
            description=description[:TEXT_LENGTH],
            node=host or host_name,
            event_type=EVENT_SOURCES[source],
            occurred_at=occurred_at,
            ended_at=ended_at,
            labels=labels,
            links=tuple(links),
            source_event_id=event_id,
            raw={name: item for name, item in payload.items() if name != "itsm_token"},
        )
    ]


def _event_id(value: str, path: str) -> str:
    if not _ID.fullmatch(value):
        raise PayloadRefused(path, _("A Zabbix event id (digits) is expected."))
    return value


def _severity(numbered: str, named: str) -> str:
    if numbered:
        if numbered not in NUMBERED_SEVERITIES:
            raise PayloadRefused(
                "event_nseverity", _("One of: %(values)s.") % {"values": "0, 1, 2, 3, 4, 5"}
            )
        return NUMBERED_SEVERITIES[numbered]
    return NAMED_SEVERITIES.get(named.lower(), "")


def _timezone(name: str):
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PayloadRefused("timezone", _("A time zone name is expected.")) from None


def _when(payload: dict, prefix: str, value, timezone) -> datetime | None:
    """A time from ``<prefix>_timestamp`` (Unix seconds), else ``<prefix>_date`` and
    ``<prefix>_time`` (``yyyy.mm.dd`` and ``hh:mm:ss`` in the server's time zone)."""
    stamp = value(f"{prefix}_timestamp", limit=32)
    if stamp:
        if not stamp.isdigit() or len(stamp) > 11:
            raise PayloadRefused(f"{prefix}_timestamp", _("A Unix time in seconds is expected."))
        return datetime.fromtimestamp(int(stamp), tz=UTC)
    day, time = value(f"{prefix}_date", limit=32), value(f"{prefix}_time", limit=32)
    if not day:
        return None
    try:
        parsed = datetime.strptime(f"{day} {time or '00:00:00'}", "%Y.%m.%d %H:%M:%S")  # noqa: DTZ007
    except ValueError:
        raise PayloadRefused(
            f"{prefix}_date", _("A date as yyyy.mm.dd and a time as hh:mm:ss are expected.")
        ) from None
    return parsed.replace(tzinfo=timezone)


def _tags(value) -> dict:
    """``{EVENT.TAGSJSON}``: an array of ``{"tag": …, "value": …}`` (or its JSON text)."""
    path = "event_tags"
    if isinstance(value, str):
        if value == "" or unexpanded(value):
            return {}
        try:
            value = json.loads(value)
        except ValueError:
            raise PayloadRefused(path, _("A JSON array of tags is expected.")) from None
    if value is None:
        return {}
    if not isinstance(value, list):
        raise PayloadRefused(path, _("A list is expected."))
    if len(value) > MAX_LABELS:
        raise PayloadRefused(path, _("At most %(n)d entries.") % {"n": MAX_LABELS})
    tags: dict[str, list[str]] = {}
    for index, tag in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(tag, dict):
            raise PayloadRefused(where, _("An object is expected."))
        name = text(tag.get("tag"), f"{where}.tag", limit=NAME_LENGTH, required=True)
        item = text(tag.get("value"), f"{where}.value", limit=NAME_LENGTH)
        if name.startswith("__itsm_"):
            continue
        values = tags.setdefault(name, [])
        if item not in values:
            values.append(item)
    return {name: ", ".join(values)[:TEXT_LENGTH] for name, values in tags.items()}


def _url(value: str) -> str:
    if not value or _MACRO.search(value) or any(c.isspace() for c in value):
        return ""
    if not value.lower().startswith(("http://", "https://")):
        return ""
    return value
