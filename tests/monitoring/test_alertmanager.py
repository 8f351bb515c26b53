"""Alertmanager's webhook (version 4) read into events: payloads shaped as its documentation
shows them, re-sends, resolution, severities, every refusal with its field, hostile input;
and end to end with a real Alertmanager posting to a webhook thread."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from practices.monitoring import alertmanager
from practices.monitoring.events import (
    MAX_ALERTS,
    MAX_LABELS,
    SUMMARY_LENGTH,
    TEXT_LENGTH,
    PayloadRefused,
)
from tests.monitoring.conftest import load


def firing():
    return load("alertmanager_firing.json")


def one_alert(**changes):
    payload = firing()
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0].update(changes)
    return payload


def refused(payload) -> PayloadRefused:
    with pytest.raises(PayloadRefused) as caught:
        alertmanager.read(payload)
    return caught.value


def test_a_firing_group_reads_one_event_per_alert():
    first, second = alertmanager.read(firing())
    assert first.source_kind == "alertmanager"
    assert first.key == "5e1f0c3a9b7d2e44"
    assert first.status == "firing"
    assert first.severity == "critical"
    assert first.summary == "Disk /var/lib/postgresql on db-01 is 97% full"
    assert first.description.startswith("Filesystem /dev/sda1")
    assert first.node == "db-01.example.org:9100"
    assert first.event_type == "DiskAlmostFull"
    assert first.resource == "node"
    assert first.metric == ""
    assert first.occurred_at == datetime(2026, 11, 30, 8, 14, 5, 311000, tzinfo=UTC)
    assert first.ended_at is None  # the zero time while firing
    assert first.labels["mountpoint"] == "/var/lib/postgresql"
    assert first.group_key == '{}/{severity=~"critical|warning"}:{alertname="DiskAlmostFull"}'
    assert first.raw == firing()["alerts"][0]
    assert [link["text"] for link in first.links] == ["generator", "runbook"]
    assert first.links[0]["href"].startswith("http://prometheus.example.org:9090/graph")
    # No summary annotation: the description's first line.
    assert second.key == "a04c7be19d3f6612"
    assert second.severity == "warning"
    assert second.summary == "Filesystem /dev/sdb1 mounted on /srv/backup has 9% space left."
    assert second.occurred_at.utcoffset() == timedelta(hours=1)


def test_a_resend_gives_the_same_key_and_the_resolution_closes_it():
    fired = alertmanager.read(firing())[0]
    again = alertmanager.read(firing())[0]
    assert again.key == fired.key
    assert again == fired
    (resolved,) = alertmanager.read(load("alertmanager_resolved.json"))
    assert resolved.key == fired.key
    assert resolved.status == "resolved"
    # A resolved alert keeps its severity: the status says it is over.
    assert resolved.severity == "critical"
    assert resolved.ended_at == datetime(2026, 11, 30, 10, 2, 35, 118000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("critical", "critical"),
        ("page", "critical"),
        ("CRITICAL", "critical"),
        ("error", "major"),
        ("major", "major"),
        ("high", "major"),
        ("warning", "warning"),
        ("warn", "warning"),
        ("minor", "minor"),
        ("low", "minor"),
        ("info", "info"),
        ("informational", "info"),
        ("none", "info"),
        ("disaster-ish", "warning"),
        (None, "warning"),
    ],
)
def test_severity_labels_map_to_ours(label, severity):
    payload = one_alert()
    if label is None:
        del payload["alerts"][0]["labels"]["severity"]
    else:
        payload["alerts"][0]["labels"]["severity"] = label
    assert alertmanager.read(payload)[0].severity == severity


def test_summary_falls_back_to_the_alert_name_and_labels_give_node_resource_metric():
    payload = one_alert(
        annotations={"dashboard": "https://grafana.example.org/d/x", "runbook_url": "ftp://x"},
        labels={
            "alertname": "Up",
            "hostname": "web-7",
            "pod": "web-7-abc",
            "__name__": "up",
        },
    )
    (event,) = alertmanager.read(payload)
    assert event.summary == "Up"
    assert event.description == ""
    assert (event.node, event.resource, event.metric) == ("web-7", "web-7-abc", "up")
    # Only http(s) links are kept; the dashboard annotation is one.
    assert [link["text"] for link in event.links] == ["generator", "dashboard"]


def test_an_alert_with_nothing_but_its_fingerprint_and_status_is_read():
    payload = {
        "version": "4",
        "alerts": [{"status": "firing", "fingerprint": "abc"}],
    }
    (event,) = alertmanager.read(payload)
    assert event.key == "abc"
    assert event.summary == "Alert abc"
    assert event.labels == {}
    assert event.links == ()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": "3"}, "version"),
        ({"version": None}, "version"),
        ({"version": ["4"]}, "version"),
        ({"status": "pending"}, "status"),
        ({"truncatedAlerts": "0"}, "truncatedAlerts"),
        ({"truncatedAlerts": -1}, "truncatedAlerts"),
        ({"groupKey": {"a": 1}}, "groupKey"),
        ({"groupLabels": ["alertname"]}, "groupLabels"),
        ({"commonLabels": "x"}, "commonLabels"),
        ({"commonAnnotations": 3}, "commonAnnotations"),
        ({"receiver": "it\x00sm"}, "receiver"),
        ({"externalURL": True}, "externalURL"),
        ({"alerts": None}, "alerts"),
        ({"alerts": []}, "alerts"),
        ({"alerts": {"0": {}}}, "alerts"),
    ],
)
def test_refusals_of_the_group_name_their_field(change, field):
    payload = firing()
    payload.update(change)
    assert refused(payload).field == field


def alert_change(i, **changes):
    payload = firing()
    payload["alerts"][i].update(changes)
    return payload


def without(i, name):
    payload = firing()
    del payload["alerts"][i][name]
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (without(1, "fingerprint"), "alerts[1].fingerprint"),
        (alert_change(0, fingerprint=""), "alerts[0].fingerprint"),
        (alert_change(0, fingerprint=["x"]), "alerts[0].fingerprint"),
        (alert_change(1, status="pending"), "alerts[1].status"),
        (without(0, "status"), "alerts[0].status"),
        (alert_change(0, labels="severity=critical"), "alerts[0].labels"),
        (alert_change(0, labels={"job": "a\x07b"}), "alerts[0].labels.job"),
        (alert_change(0, labels={"": "x"}), "alerts[0].labels."),
        (alert_change(0, labels={"flag": True}), "alerts[0].labels.flag"),
        (
            alert_change(0, labels={f"l{n}": "v" for n in range(MAX_LABELS + 1)}),
            "alerts[0].labels",
        ),
        (alert_change(1, annotations=[]), "alerts[1].annotations"),
        (alert_change(1, annotations={"summary": "a\x00b"}), "alerts[1].annotations.summary"),
        (alert_change(1, startsAt="yesterday"), "alerts[1].startsAt"),
        (alert_change(1, startsAt="2026-11-30T08:14:05"), "alerts[1].startsAt"),
        (alert_change(1, startsAt=1733000000), "alerts[1].startsAt"),
        (alert_change(0, startsAt="2026-11-30T08:14:05+16:00"), "alerts[0].startsAt"),
        (alert_change(0, startsAt="2026-11-30T08:14:05-16:30"), "alerts[0].startsAt"),
        (alert_change(0, startsAt="2026-11-30T08:14:05+24:00"), "alerts[0].startsAt"),
        (alert_change(0, endsAt="2026-02-30T00:00:00Z"), "alerts[0].endsAt"),
        (alert_change(0, endsAt="9999-12-31T23:59:59-10:00"), "alerts[0].endsAt"),
        (alert_change(0, generatorURL={"href": "x"}), "alerts[0].generatorURL"),
    ],
)
def test_refusals_of_an_alert_name_its_field(payload, field):
    error = refused(payload)
    assert error.field == field
    assert error.as_errors() == {field: [str(error.message)]}


def test_an_alert_that_is_not_an_object_is_refused_at_its_place():
    payload = firing()
    payload["alerts"].append("DiskAlmostFull")
    assert refused(payload).field == "alerts[2]"


def test_too_many_alerts_are_refused_and_the_limit_is_accepted():
    alert = firing()["alerts"][0]
    payload = firing()
    payload["alerts"] = [dict(alert, fingerprint=f"{n:016x}") for n in range(MAX_ALERTS)]
    assert len(alertmanager.read(payload)) == MAX_ALERTS
    payload["alerts"].append(alert)
    assert refused(payload).field == "alerts"


def test_offsets_up_to_fifteen_fifty_nine_are_read():
    payload = one_alert(startsAt="2026-11-30T08:14:05-15:59")
    event = alertmanager.read(payload)[0]
    assert event.occurred_at.utcoffset() == -timedelta(hours=15, minutes=59)
    payload = one_alert(startsAt="2026-11-30T08:14:05.123456789+14:00")
    assert alertmanager.read(payload)[0].occurred_at.microsecond == 123456


def test_huge_texts_are_cut_not_refused():
    payload = one_alert(
        annotations={"summary": "s" * 100_000, "description": "d" * 100_000},
        labels={"alertname": "a" * 100_000, "instance": "i" * 100_000},
    )
    (event,) = alertmanager.read(payload)
    assert len(event.summary) == SUMMARY_LENGTH
    assert len(event.description) == TEXT_LENGTH
    assert len(event.event_type) == 200
    assert len(event.node) == 200


def test_a_huge_fingerprint_and_group_key_stay_distinct_keys():
    long_a = "f" * 300 + "a"
    long_b = "f" * 300 + "b"
    payload = firing()
    payload["groupKey"] = "g" * 5000
    payload["alerts"][0]["fingerprint"] = long_a
    payload["alerts"][1]["fingerprint"] = long_b
    first, second = alertmanager.read(payload)
    assert len(first.key) <= 255 and len(second.key) <= 255
    assert first.key != second.key
    assert first.key == alertmanager.read(payload)[0].key
    assert len(first.group_key) <= 255


def test_nested_label_values_are_stringified():
    deep = {"a": 1}
    for _ in range(200):
        deep = {"n": deep}
    payload = one_alert(labels={"alertname": "Nested", "deep": deep, "list": [1, [2, {"x": 3}]]})
    (event,) = alertmanager.read(payload)
    assert event.labels["deep"].startswith("{'n': {'n':")
    assert event.labels["list"] == "[1, [2, {'x': 3}]]"


def test_a_body_that_is_not_an_object_is_refused():
    for body in (None, [], "x", 4):
        assert refused(body).field == "body"


def test_tabs_and_line_breaks_are_kept():
    payload = one_alert(annotations={"description": "line one\r\n\tline two"})
    assert alertmanager.read(payload)[0].description == "line one\r\n\tline two"


# End to end: a real Alertmanager --------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def test_a_real_alertmanager_fires_resends_and_resolves(alertmanager_server):
    labels = {
        "alertname": "ItsmEndToEnd",
        "severity": "critical",
        "instance": "db-01.example.org:9100",
        "job": "node",
    }
    annotations = {"summary": "End-to-end alert", "runbook_url": "https://runbooks.example.org/e2e"}
    assert (
        alertmanager_server.post_alerts(
            [{"labels": labels, "annotations": annotations, "startsAt": _now()}]
        )
        == 200
    )

    body = alertmanager_server.next_body(timeout=10)
    payload = json.loads(body)
    (fired,) = alertmanager.read(payload)
    assert payload["version"] == "4"
    assert fired.status == "firing"
    assert fired.severity == "critical"
    assert fired.summary == "End-to-end alert"
    assert fired.node == "db-01.example.org:9100"
    assert fired.ended_at is None
    assert fired.key == payload["alerts"][0]["fingerprint"] and len(fired.key) == 16
    assert fired.group_key == '{}:{alertname="ItsmEndToEnd"}'

    # The re-send after repeat_interval (5 s): the same alert, the same key.
    resent = alertmanager.read(json.loads(alertmanager_server.next_body(timeout=10)))
    assert [(event.key, event.status) for event in resent] == [(fired.key, "firing")]

    # Resolved by posting the alert again with its end.
    alertmanager_server.post_alerts(
        [{"labels": labels, "annotations": annotations, "endsAt": _now()}]
    )
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while True:
        payload = json.loads(alertmanager_server.next_body(timeout=10))
        if payload["status"] == "resolved" or datetime.now(UTC) > deadline:
            break
    (resolved,) = alertmanager.read(payload)
    assert resolved.key == fired.key
    assert resolved.status == "resolved"
    assert resolved.severity == "critical"
    assert resolved.ended_at is not None and resolved.ended_at > fired.occurred_at
