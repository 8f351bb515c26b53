"""A PagerDuty Events API v2 compatible endpoint: anything that can page PagerDuty can page us.

The body is PagerDuty's alert event (``POST /v2/enqueue``)::

    {"routing_key": "…", "event_action": "trigger" | "acknowledge" | "resolve",
     "dedup_key": "…",
     "payload": {"summary": "…", "source": "…", "severity": "critical" | "error" | "warning"
                 | "info", "timestamp": "…", "component": "…", "group": "…", "class": "…",
                 "custom_details": {…} or "…"},
     "links": [{"href": "…", "text": "…"}], "images": [{"src": "…", "href": "…", "alt": "…"}],
     "client": "…", "client_url": "…"}

Read as PagerDuty reads it:

- ``routing_key`` is required (PagerDuty's integration keys are 32 characters; 1 to 64 are
  accepted here, the receiver checks the key against the integration). It is the sender's
  credential: it is not kept in the event's ``raw``.
- ``event_action``: ``trigger`` → firing, ``acknowledge`` → acknowledged, ``resolve`` →
  resolved.
- ``dedup_key`` (at most 255 characters) is the alert's key. A ``trigger`` may omit it:
  PagerDuty then generates one and answers with it, and so do we, but ours is *stable*
  (see ``generated_dedup_key``) so that a tool re-sending the same trigger without a key
  updates the same alert instead of opening a new one each time. ``acknowledge`` and
  ``resolve`` need it.
- On ``trigger``, ``payload.summary`` (at most 1024 characters), ``payload.source`` and
  ``payload.severity`` are required; severities read critical → critical, error → major,
  warning → warning, info → info. ``acknowledge`` and ``resolve`` need no payload: a resolve
  reads as severity ``clear``, an acknowledge keeps the payload's severity if it has one,
  else ``info``; their summary is empty when they carry none (the alert keeps its own).
- ``payload.source`` is the event's node, ``component`` its resource, ``class`` its type;
  the labels are ``pagerduty.source``, ``pagerduty.component``, ``pagerduty.group``,
  ``pagerduty.class``, ``pagerduty.severity``, ``pagerduty.client`` (those given) and, when
  ``custom_details`` is an object, its entries (nested values as JSON). The description is
  the whole summary when it is longer than an event's summary, then the custom details
  (a string as it is, an object as ``key: value`` lines).
- ``links`` (``href`` required), ``images`` (``src`` required, HTTPS) and ``client_url`` are
  the event's links, each ``{"href": …, "text": …}`` (an image also ``"image": src``); only
  http and https URLs are accepted (a link is shown to people).

``accepted_answer`` is PagerDuty's 202 body, ``refused_answer`` its 400 body.
"""

import hashlib
import json

from django.utils.translation import gettext_lazy as _

from .events import (
    ACKNOWLEDGED,
    FIRING,
    KEY_LENGTH,
    MAX_LABELS,
    NAME_LENGTH,
    RESOLVED,
    SUMMARY_LENGTH,
    TEXT_LENGTH,
    Event,
    PayloadRefused,
    items,
    mapping,
    moment,
    one_of,
    payload_object,
    text,
)

SOURCE_KIND = "pagerduty"

ACTIONS = {"trigger": FIRING, "acknowledge": ACKNOWLEDGED, "resolve": RESOLVED}
SEVERITIES = {"critical": "critical", "error": "major", "warning": "warning", "info": "info"}

#: PagerDuty's limits.
ROUTING_KEY_LENGTH = 64
SUMMARY_LIMIT = 1024


def read(payload) -> list[Event]:
    """The one event a PagerDuty Events API v2 alert event carries; ``PayloadRefused``
    names the field at fault (``payload.summary``, ``links[0].href``…)."""
    payload = payload_object(payload)
    routing = routing_key(payload)
    action = text(payload.get("event_action"), "event_action", limit=NAME_LENGTH, required=True)
    action = one_of(action, "event_action", tuple(ACTIONS))
    status = ACTIONS[action]

    body = payload.get("payload")
    if body is None and action != "trigger":
        body = {}
    if not isinstance(body, dict):
        if body is None:
            raise PayloadRefused("payload", _("This field is required."))
        raise PayloadRefused("payload", _("An object is expected."))
    trigger = action == "trigger"

    summary = text(
        body.get("summary"), "payload.summary", limit=SUMMARY_LIMIT + 1, required=trigger
    )
    if len(summary) > SUMMARY_LIMIT:
        raise PayloadRefused(
            "payload.summary", _("At most %(n)d characters.") % {"n": SUMMARY_LIMIT}
        )
    source = text(body.get("source"), "payload.source", required=trigger)
    raw_severity = body.get("severity")
    if trigger or raw_severity not in (None, ""):
        pd_severity = one_of(
            text(raw_severity, "payload.severity", limit=NAME_LENGTH, required=trigger),
            "payload.severity",
            tuple(SEVERITIES),
        )
    else:
        pd_severity = ""
    if status == RESOLVED:
        severity = "clear"
    else:
        severity = SEVERITIES.get(pd_severity, "info")
    component = text(body.get("component"), "payload.component")
    group = text(body.get("group"), "payload.group")
    event_class = text(body.get("class"), "payload.class")
    occurred_at = moment(body.get("timestamp"), "payload.timestamp")
    details, described = _custom_details(body.get("custom_details"))

    dedup_key = _dedup_key(payload.get("dedup_key"), required=not trigger)
    if not dedup_key:
        dedup_key = generated_dedup_key(routing, summary, source, component, group, event_class)

    client = text(payload.get("client"), "client", limit=NAME_LENGTH)
    labels = {
        name: value
        for name, value in (
            ("pagerduty.source", source[:NAME_LENGTH]),
            ("pagerduty.component", component[:NAME_LENGTH]),
            ("pagerduty.group", group[:NAME_LENGTH]),
            ("pagerduty.class", event_class[:NAME_LENGTH]),
            ("pagerduty.severity", pd_severity),
            ("pagerduty.client", client),
        )
        if value
    }
    for name, value in details.items():
        labels.setdefault(name, value)
    if len(labels) > MAX_LABELS:
        raise PayloadRefused(
            "payload.custom_details", _("At most %(n)d entries.") % {"n": MAX_LABELS}
        )

    description = "\n\n".join(
        part for part in (summary if len(summary) > SUMMARY_LENGTH else "", described) if part
    )[:TEXT_LENGTH]

    raw = {name: value for name, value in payload.items() if name != "routing_key"}
    return [
        Event(
            source_kind=SOURCE_KIND,
            key=dedup_key,
            status=status,
            severity=severity,
            summary=summary[:SUMMARY_LENGTH],
            description=description,
            node=source[:NAME_LENGTH],
            resource=component[:NAME_LENGTH],
            event_type=event_class[:NAME_LENGTH],
            occurred_at=occurred_at,
            labels=labels,
            links=_links(payload, client),
            raw=raw,
        )
    ]


def routing_key(payload) -> str:
    """The payload's routing key (the integration's key the receiver checks), read."""
    payload = payload_object(payload)
    key = text(
        payload.get("routing_key"), "routing_key", limit=ROUTING_KEY_LENGTH + 1, required=True
    )
    if len(key) > ROUTING_KEY_LENGTH or key != key.strip():
        raise PayloadRefused(
            "routing_key",
            _("An integration key of 1 to %(n)d characters is expected.")
            % {"n": ROUTING_KEY_LENGTH},
        )
    return key


def generated_dedup_key(
    routing: str, summary: str, source: str, component: str, group: str, event_class: str
) -> str:
    """The key of a trigger sent without one: the SHA-256 of its routing key, summary,
    source, component, group and class (joined by the unit separator, a character no value
    may hold), in 32 hexadecimal digits: the same trigger re-sent gets the same key."""
    joined = "\x1f".join((routing, summary, source, component, group, event_class))
    return hashlib.sha256(joined.encode()).hexdigest()[:32]


def accepted_answer(event: Event) -> dict:
    """PagerDuty's answer to an event it took (with HTTP 202)."""
    return {"status": "success", "message": "Event processed", "dedup_key": event.key}


def refused_answer(refusal: PayloadRefused) -> dict:
    """PagerDuty's answer to an event it refused (with HTTP 400)."""
    return {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": [f"{refusal.field}: {refusal.message}"],
    }


def _dedup_key(value, *, required: bool) -> str:
    key = text(value, "dedup_key", limit=KEY_LENGTH + 1, required=required)
    if len(key) > KEY_LENGTH:
        raise PayloadRefused("dedup_key", _("At most %(n)d characters.") % {"n": KEY_LENGTH})
    return key


def _custom_details(value) -> tuple[dict, str]:
    """(labels, description) of ``payload.custom_details``: an object or a string."""
    path = "payload.custom_details"
    if value is None or value == "":
        return {}, ""
    if isinstance(value, str):
        return {}, text(value, path)
    if not isinstance(value, dict):
        raise PayloadRefused(path, _("An object or a string is expected."))
    flat = {}
    for name, item in value.items():
        if isinstance(item, dict | list):
            item = json.dumps(item, ensure_ascii=False)
        elif isinstance(item, bool):
            item = "true" if item else "false"
        flat[name] = item
    details = mapping(flat, path)
    described = "\n".join(f"{name}: {item}" for name, item in details.items())
    return details, described[:TEXT_LENGTH]


def _url(value, path: str, *, required: bool = False, https: bool = False) -> str:
    url = text(value, path, required=required)
    if not url:
        return ""
    schemes = ("https://",) if https else ("http://", "https://")
    if not url.lower().startswith(schemes) or any(c.isspace() for c in url):
        raise PayloadRefused(
            path,
            _("An https URL is expected.") if https else _("An http or https URL is expected."),
        )
    return url


def _links(payload: dict, client: str) -> tuple:
    links = []
    for index, link in enumerate(
        items(payload.get("links"), "links", limit=MAX_LABELS, required=False)
    ):
        path = f"links[{index}]"
        if not isinstance(link, dict):
            raise PayloadRefused(path, _("An object is expected."))
        href = _url(link.get("href"), f"{path}.href", required=True)
        links.append(
            {
                "href": href,
                "text": text(link.get("text"), f"{path}.text", limit=NAME_LENGTH) or href,
            }
        )
    for index, image in enumerate(
        items(payload.get("images"), "images", limit=MAX_LABELS, required=False)
    ):
        path = f"images[{index}]"
        if not isinstance(image, dict):
            raise PayloadRefused(path, _("An object is expected."))
        src = _url(image.get("src"), f"{path}.src", required=True, https=True)
        href = _url(image.get("href"), f"{path}.href")
        alt = text(image.get("alt"), f"{path}.alt", limit=NAME_LENGTH)
        links.append({"href": href or src, "text": alt or src, "image": src})
    client_url = _url(payload.get("client_url"), "client_url")
    if client_url:
        links.append({"href": client_url, "text": client or client_url})
    if len(links) > MAX_LABELS:
        raise PayloadRefused("links", _("At most %(n)d entries.") % {"n": MAX_LABELS})
    return tuple(links)
