"""Grafana's unified alerting webhook (version 1) read into events, and its HMAC-SHA256
signature checked (with and without the signed timestamp)."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from practices.monitoring import grafana
from practices.monitoring.events import MAX_ALERTS, PayloadRefused
from tests.monitoring.conftest import load


def firing():
    return load("grafana_firing.json")


def refused(payload) -> PayloadRefused:
    with pytest.raises(PayloadRefused) as caught:
        grafana.read(payload)
    return caught.value


def test_a_grafana_group_reads_one_event_per_alert():
    latency, errors = grafana.read(firing())
    assert latency.source_kind == "grafana"
    assert latency.key == "9d41e0b7a2c35f18"
    assert latency.status == "firing"
    assert latency.severity == "major"
    assert latency.summary == "p99 latency of payments-api above 800 ms"
    assert latency.node == "pay-03"
    assert latency.resource == "payments-api"
    assert latency.event_type == "API latency high"
    assert latency.occurred_at.utcoffset() == timedelta(hours=1)
    assert latency.ended_at is None
    assert latency.group_key == '{}/{service="payments-api"}:{grafana_folder="Payments"}'
    assert [link["text"] for link in latency.links] == [
        "generator",
        "runbook",
        "silence",
        "dashboard",
        "panel",
    ]
    assert latency.raw["values"] == {"A": 912.4, "B": 1}
    # severity "page" is critical; the description's first line is the summary; empty
    # dashboard and panel URLs are no links, the image is one.
    assert errors.severity == "critical"
    assert errors.summary == "More than 5% of requests fail."
    assert errors.node == ""
    assert [link["text"] for link in errors.links] == ["generator", "silence", "image"]


def test_a_resend_gives_the_same_key_and_a_resolution_keeps_the_severity():
    fired = grafana.read(firing())
    assert [event.key for event in grafana.read(firing())] == [event.key for event in fired]
    payload = firing()
    payload["status"] = "resolved"
    payload["state"] = "ok"
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0]["status"] = "resolved"
    payload["alerts"][0]["endsAt"] = "2026-12-01T14:40:10.0+01:00"
    (resolved,) = grafana.read(payload)
    assert resolved.key == fired[0].key
    assert resolved.status == "resolved"
    assert resolved.severity == "major"
    assert resolved.ended_at.isoformat() == "2026-12-01T14:40:10+01:00"


def with_alert(i, **changes):
    payload = firing()
    payload["alerts"][i].update(changes)
    return payload


def with_group(**changes):
    payload = firing()
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (with_group(version="4"), "version"),
        (with_group(orgId="1"), "orgId"),
        (with_group(orgId=True), "orgId"),
        (with_group(state={"a": 1}), "state"),
        (with_group(title="a\x1bb"), "title"),
        (with_group(message=["x"]), "message"),
        (with_group(alerts=[]), "alerts"),
        (with_alert(1, fingerprint=None), "alerts[1].fingerprint"),
        (with_alert(0, values=[1, 2]), "alerts[0].values"),
        (with_alert(0, silenceURL=["u"]), "alerts[0].silenceURL"),
        (with_alert(1, imageURL="https://x/\x00"), "alerts[1].imageURL"),
        (with_alert(1, startsAt="2026-12-01T14:05:10+17:00"), "alerts[1].startsAt"),
    ],
)
def test_refusals_name_their_field(payload, field):
    assert refused(payload).field == field


def test_too_many_alerts_are_refused():
    payload = firing()
    payload["alerts"] = payload["alerts"][:1] * (MAX_ALERTS + 1)
    assert refused(payload).field == "alerts"


def test_a_javascript_dashboard_url_is_no_link():
    payload = with_alert(0, dashboardURL="javascript:alert(1)", panelURL="data:text/html,x")
    links = grafana.read(payload)[0].links
    assert [link["text"] for link in links] == ["generator", "runbook", "silence"]


# The signature ----------------------------------------------------------------------------------

SECRET = "s3cret-shared-with-grafana"
BODY = json.dumps(load("grafana_firing.json")).encode()
NOW = 1_796_000_000


def sign(body: bytes, timestamp: str | None = None, secret: str = SECRET) -> str:
    message = f"{timestamp}:".encode() + body if timestamp else body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_a_signature_of_the_body_is_valid():
    assert grafana.signature_valid(SECRET, BODY, sign(BODY))
    assert grafana.signature_valid(SECRET, BODY, sign(BODY).upper())
    assert grafana.signature_valid(SECRET, BODY, f" {sign(BODY)}\n")
    assert grafana.signature(SECRET, BODY) == sign(BODY)


@pytest.mark.parametrize(
    "header",
    [
        "",
        None,
        "0" * 64,
        "not-hex",
        "é" * 64,
        sign(BODY, secret="another secret"),
        sign(BODY + b" "),
        sign(BODY)[:-1],
        "sha256=" + sign(BODY),
    ],
)
def test_a_wrong_signature_is_invalid(header):
    assert not grafana.signature_valid(SECRET, BODY, header)


def test_no_secret_means_no_valid_signature():
    assert not grafana.signature_valid("", BODY, hmac.new(b"", BODY, hashlib.sha256).hexdigest())


def test_a_signed_recent_timestamp_is_valid():
    ts = str(NOW)
    assert grafana.signature_valid(SECRET, BODY, sign(BODY, ts), ts, now=NOW)
    assert grafana.signature_valid(SECRET, BODY, sign(BODY, ts), ts, now=NOW + 299)
    assert grafana.signature_valid(SECRET, BODY, sign(BODY, ts), ts, now=NOW - 59)
    # The body alone, without the timestamp, is not what was signed.
    assert not grafana.signature_valid(SECRET, BODY, sign(BODY), ts, now=NOW)
    # Nor is another timestamp.
    assert not grafana.signature_valid(SECRET, BODY, sign(BODY, ts), str(NOW + 1), now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "now"),
    [
        (NOW, NOW + 301),  # stale: more than five minutes old
        (NOW, NOW + 3600),
        (NOW, NOW - 61),  # more than a minute ahead of us
        (NOW, NOW - 86400),
    ],
)
def test_a_stale_or_future_timestamp_is_invalid(timestamp, now):
    ts = str(timestamp)
    assert not grafana.signature_valid(SECRET, BODY, sign(BODY, ts), ts, now=now)


@pytest.mark.parametrize("timestamp", ["", "abc", "-5", "1.5", "٣٣", "9" * 5000])
def test_a_malformed_timestamp_is_invalid(timestamp):
    assert not grafana.signature_valid(SECRET, BODY, sign(BODY, timestamp), timestamp, now=NOW)


def test_the_real_clock_is_used_by_default():
    import time

    ts = str(int(time.time()))
    assert grafana.signature_valid(SECRET, BODY, sign(BODY, ts), ts)
    old = str(int(time.time()) - 600)
    assert not grafana.signature_valid(SECRET, BODY, sign(BODY, old), old)
