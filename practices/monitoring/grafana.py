"""Grafana unified alerting's webhook (payload version 1) read into events, and its optional
HMAC-SHA256 signature checked.

Grafana's body is Alertmanager's with ``orgId``, ``state``, ``title`` and ``message``
around the alerts, and ``silenceURL``, ``dashboardURL``, ``panelURL``, ``values`` and
``imageURL`` on each: the alerts are read as Alertmanager's are (``alertmanager.read_alert``),
keyed on their fingerprint.

The signature, when the contact point has a secret: the hex HMAC-SHA256 of the body, in
the ``X-Grafana-Alerting-Signature`` header (the header's name can be changed in Grafana);
with a timestamp header configured, Grafana puts a Unix time (seconds) in it and signs
``timestamp + ":" + body`` instead."""

import hashlib
import hmac
import time

from django.utils.translation import gettext_lazy as _

from . import alertmanager
from .events import NAME_LENGTH, Event, PayloadRefused, mapping, payload_object, text

SOURCE_KIND = "grafana"
VERSION = "1"
SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
#: Grafana has no default name for it; this is the one its documentation uses.
TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp"
#: A signed timestamp older than this, or further ahead than ``MAX_AHEAD``, is refused.
MAX_AGE = 5 * 60
MAX_AHEAD = 60

#: Grafana's links on each alert, with the title each is shown under.
LINKS = (
    ("silence", "silenceURL"),
    ("dashboard", "dashboardURL"),
    ("panel", "panelURL"),
    ("image", "imageURL"),
)


def read(payload: dict) -> list[Event]:
    """The events of a Grafana webhook body (version 1); ``PayloadRefused`` names the field
    at fault."""
    payload = payload_object(payload)
    org = payload.get("orgId")
    if org is not None and (isinstance(org, bool) or not isinstance(org, int)):
        raise PayloadRefused("orgId", _("A whole number is expected."))
    text(payload.get("state"), "state", limit=NAME_LENGTH)
    text(payload.get("title"), "title")
    text(payload.get("message"), "message")
    events = alertmanager.read_group(payload, version=VERSION, source_kind=SOURCE_KIND, links=LINKS)
    for i, alert in enumerate(payload["alerts"]):
        mapping(alert.get("values"), f"alerts[{i}].values")
    return events


def signature(secret: str, body: bytes, timestamp: str | None = None) -> str:
    """The hex HMAC-SHA256 Grafana sends for ``body`` (and ``timestamp``, when one is)."""
    if isinstance(body, str):
        body = body.encode()
    message = f"{timestamp}:".encode() + body if timestamp else body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(
    secret: str,
    body: bytes,
    header_value: str,
    timestamp_header: str | None = None,
    *,
    now: float | None = None,
) -> bool:
    """Whether ``header_value`` (the signature header's value) is Grafana's signature of
    ``body`` with ``secret``. With ``timestamp_header`` (the timestamp header's value) the
    timestamp is signed too and must be recent: at most five minutes old and at most one
    minute ahead of our clock. The comparison takes constant time."""
    if not secret or not header_value:
        return False
    if timestamp_header is not None:
        timestamp_header = timestamp_header.strip()
        if not (timestamp_header.isascii() and timestamp_header.isdigit()):
            return False
        if len(timestamp_header) > 12:
            return False
        age = (time.time() if now is None else now) - int(timestamp_header)
        if age > MAX_AGE or age < -MAX_AHEAD:
            return False
    expected = signature(secret, body, timestamp_header)
    given = header_value.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode(), given)
