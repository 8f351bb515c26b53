"""Prometheus Alertmanager's webhook (payload version 4) read into events: one per alert of
the group, keyed on the alert's fingerprint, so that Alertmanager's re-sends (every
``repeat_interval``, and its retries after a 5xx) are updates of the same alert.

The per-alert reading (``read_alert``) is shared with Grafana's webhook, whose body is
Alertmanager's with a few fields more."""

from django.utils.translation import gettext_lazy as _

from .events import (
    FIRING,
    MAX_LABELS,
    NAME_LENGTH,
    RESOLVED,
    SUMMARY_LENGTH,
    Event,
    PayloadRefused,
    bounded_key,
    items,
    mapping,
    moment,
    one_of,
    payload_object,
    text,
)

SOURCE_KIND = "alertmanager"
VERSION = "4"

#: What a ``severity`` label says, in our severities; anything else reads as a warning.
SEVERITY_WORDS = {
    "critical": "critical",
    "page": "critical",
    "error": "major",
    "major": "major",
    "high": "major",
    "warning": "warning",
    "warn": "warning",
    "minor": "minor",
    "low": "minor",
    "info": "info",
    "informational": "info",
    "none": "info",
}
DEFAULT_SEVERITY = "warning"

#: Labels naming the machine, the thing on it, and the metric, first found wins.
NODE_LABELS = ("instance", "host", "hostname", "node")
RESOURCE_LABELS = ("job", "service", "pod", "container", "deployment", "resource")
METRIC_LABELS = ("__name__", "metric")


def severity_of(labels: dict) -> str:
    """Our severity for a ``severity`` (or ``priority``) label; unknown or none: warning."""
    word = (labels.get("severity") or labels.get("priority") or "").strip().lower()
    return SEVERITY_WORDS.get(word, DEFAULT_SEVERITY)


def link(links: list, title: str, value, path: str) -> None:
    """Adds an http(s) link; any other scheme (``javascript:``…) or an empty value is left
    out (the raw payload keeps it)."""
    url = text(value, path)
    if url.lower().startswith(("http://", "https://")) and len(links) < MAX_LABELS:
        links.append({"text": title, "href": url})


def first(labels: dict, names) -> str:
    for name in names:
        if labels.get(name):
            return labels[name][:NAME_LENGTH]
    return ""


def summary_of(annotations: dict, labels: dict, fingerprint: str) -> str:
    description = annotations.get("description", "").strip()
    summary = (
        annotations.get("summary", "").strip()
        or (description.splitlines()[0] if description else "")
        or labels.get("alertname", "").strip()
        or str(_("Alert %(key)s") % {"key": fingerprint})
    )
    return summary[:SUMMARY_LENGTH]


def read_alert(alert, path: str, *, source_kind: str, group_key: str, links=()) -> Event:
    """One alert of an Alertmanager-shaped body (``alerts[i]`` at ``path``)."""
    if not isinstance(alert, dict):
        raise PayloadRefused(path, _("An object is expected."))
    fingerprint = text(alert.get("fingerprint"), f"{path}.fingerprint", required=True)
    fingerprint = bounded_key(fingerprint)
    status = one_of(alert.get("status"), f"{path}.status", (FIRING, RESOLVED))
    labels = mapping(alert.get("labels"), f"{path}.labels")
    annotations = mapping(alert.get("annotations"), f"{path}.annotations")
    starts_at = moment(alert.get("startsAt"), f"{path}.startsAt")
    ends_at = moment(alert.get("endsAt"), f"{path}.endsAt")
    found = []
    link(found, "generator", alert.get("generatorURL"), f"{path}.generatorURL")
    link(found, "runbook", annotations.get("runbook_url"), f"{path}.annotations.runbook_url")
    for name in ("dashboard", "dashboard_url"):
        link(found, "dashboard", annotations.get(name), f"{path}.annotations.{name}")
    for title, name in links:
        link(found, title, alert.get(name), f"{path}.{name}")
    return Event(
        source_kind=source_kind,
        key=fingerprint,
        status=status,
        severity=severity_of(labels),
        summary=summary_of(annotations, labels, fingerprint),
        description=annotations.get("description", ""),
        node=first(labels, NODE_LABELS),
        resource=first(labels, RESOURCE_LABELS),
        metric=first(labels, METRIC_LABELS),
        event_type=labels.get("alertname", "")[:NAME_LENGTH],
        occurred_at=starts_at,
        ended_at=ends_at if status == RESOLVED else None,
        labels=labels,
        links=tuple(found),
        group_key=group_key,
        raw=alert,
    )


def read_group(payload, *, version: str, source_kind: str, links=()) -> list[Event]:
    """The fields an Alertmanager-shaped body has around its alerts, checked, and its
    alerts read."""
    payload = payload_object(payload)
    if text(payload.get("version"), "version", limit=NAME_LENGTH) != version:
        raise PayloadRefused(
            "version", _("Payload version %(version)s is expected.") % {"version": version}
        )
    group_key = bounded_key(text(payload.get("groupKey"), "groupKey"))
    if payload.get("status") is not None:
        one_of(payload.get("status"), "status", (FIRING, RESOLVED))
    truncated = payload.get("truncatedAlerts")
    if truncated is not None and (
        isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0
    ):
        raise PayloadRefused("truncatedAlerts", _("A whole number, zero or more, is expected."))
    text(payload.get("receiver"), "receiver", limit=NAME_LENGTH)
    text(payload.get("externalURL"), "externalURL")
    for name in ("groupLabels", "commonLabels", "commonAnnotations"):
        mapping(payload.get(name), name)
    alerts = items(payload.get("alerts"), "alerts")
    return [
        read_alert(alert, f"alerts[{i}]", source_kind=source_kind, group_key=group_key, links=links)
        for i, alert in enumerate(alerts)
    ]


def read(payload: dict) -> list[Event]:
    """The events of an Alertmanager webhook body (version 4); ``PayloadRefused`` names
    the field at fault."""
    return read_group(payload, version=VERSION, source_kind=SOURCE_KIND)
