"""PagerDuty Events API v2 alert events read into events: the documentation's trigger,
acknowledge and resolve examples, the dedup key generated stably when a trigger has none,
every refusal with its field, hostile values, and PagerDuty's answers."""

from datetime import UTC, datetime

import pytest

from practices.monitoring import pagerduty
from practices.monitoring.events import (
    ACKNOWLEDGED,
    FIRING,
    MAX_LABELS,
    RESOLVED,
    SUMMARY_LENGTH,
    PayloadRefused,
)
from tests.monitoring.conftest import load


def trigger(**changes):
    payload = load("pagerduty_trigger.json")
    payload.update(changes)
    return payload


def trigger_payload(**changes):
    payload = trigger()
    payload["payload"].update(changes)
    return payload


def refused(payload) -> PayloadRefused:
    with pytest.raises(PayloadRefused) as caught:
        pagerduty.read(payload)
    return caught.value


def test_the_documented_trigger_reads_as_one_firing_event():
    [event] = pagerduty.read(trigger())
    assert event.source_kind == "pagerduty"
    assert event.key == "samplekeyhere"
    assert event.status == FIRING
    assert event.severity == "info"
    assert event.summary == "Example alert on host1.example.com"
    assert event.node.startswith("monitoringtool:cloudvendor:")
    assert event.resource == "postgres"
    assert event.event_type == "deploy"
    assert event.occurred_at == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert event.labels["pagerduty.group"] == "prod-datapipe"
    assert event.labels["pagerduty.class"] == "deploy"
    assert event.labels["pagerduty.component"] == "postgres"
    assert event.labels["pagerduty.severity"] == "info"
    assert event.labels["pagerduty.client"] == "Sample Monitoring Service"
    assert event.labels["ping time"] == "1500ms"
    assert event.labels["load avg"] == "0.75"
    assert "ping time: 1500ms" in event.description
    assert event.links == (
        {"href": "https://example.com/", "text": "Link text"},
        {
            "href": "https://example.com/",
            "text": "Example text",
            "image": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png",
        },
        {"href": "https://monitoring.example.com", "text": "Sample Monitoring Service"},
    )


def test_the_routing_key_is_not_kept_in_the_raw_payload():
    [event] = pagerduty.read(trigger())
    assert "routing_key" not in event.raw
    assert event.raw["dedup_key"] == "samplekeyhere"
    assert pagerduty.routing_key(trigger()) == "samplekeyhere"


def test_the_documented_acknowledge_and_resolve_read_on_the_same_key():
    [acknowledged] = pagerduty.read(load("pagerduty_acknowledge.json"))
    [resolved] = pagerduty.read(load("pagerduty_resolve.json"))
    assert acknowledged.key == resolved.key == "dedupkeyhere"
    assert acknowledged.status == ACKNOWLEDGED
    assert resolved.status == RESOLVED
    assert resolved.severity == "clear"
    assert acknowledged.severity == "info"
    assert acknowledged.summary == resolved.summary == ""


def test_an_acknowledge_with_a_payload_keeps_its_severity():
    payload = load("pagerduty_acknowledge.json")
    payload["payload"] = {"summary": "Disk full", "severity": "critical"}
    [event] = pagerduty.read(payload)
    assert event.severity == "critical"
    assert event.summary == "Disk full"


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("critical", "critical"),
        ("error", "major"),
        ("warning", "warning"),
        ("info", "info"),
        ("ERROR", "major"),
    ],
)
def test_severities(theirs, ours):
    [event] = pagerduty.read(trigger_payload(severity=theirs))
    assert event.severity == ours


@pytest.mark.parametrize("action", ["trigger", "acknowledge", "resolve"])
def test_every_action(action):
    payload = trigger(event_action=action)
    [event] = pagerduty.read(payload)
    assert (
        event.status
        == {"trigger": FIRING, "acknowledge": ACKNOWLEDGED, "resolve": RESOLVED}[action]
    )


def test_a_trigger_without_dedup_key_gets_a_stable_generated_one():
    payload = trigger()
    del payload["dedup_key"]
    [first] = pagerduty.read(payload)
    [again] = pagerduty.read(trigger(dedup_key=None))
    assert first.key == again.key
    assert len(first.key) == 32 and int(first.key, 16) >= 0
    assert first.key == pagerduty.generated_dedup_key(
        "samplekeyhere",
        "Example alert on host1.example.com",
        "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
        "postgres",
        "prod-datapipe",
        "deploy",
    )
    assert pagerduty.accepted_answer(first)["dedup_key"] == first.key


@pytest.mark.parametrize(
    "changes",
    [
        {"summary": "Another alert"},
        {"source": "host2.example.com"},
        {"component": "mysql"},
        {"group": "other"},
        {"class": "ping failure"},
    ],
)
def test_the_generated_key_differs_when_a_field_it_is_made_of_differs(changes):
    base = trigger(dedup_key="")
    other = trigger_payload(**changes)
    other["dedup_key"] = ""
    assert pagerduty.read(base)[0].key != pagerduty.read(other)[0].key


def test_the_generated_key_depends_on_the_routing_key_but_not_on_details_or_time():
    base = pagerduty.read(trigger(dedup_key=""))[0].key
    assert pagerduty.read(trigger(dedup_key="", routing_key="otherkey"))[0].key != base
    changed = trigger_payload(
        custom_details={"load avg": 9}, timestamp="2016-01-01T00:00:00Z", severity="critical"
    )
    changed["dedup_key"] = ""
    assert pagerduty.read(changed)[0].key == base


def test_the_accepted_answer_is_pagerdutys():
    [event] = pagerduty.read(trigger())
    assert pagerduty.accepted_answer(event) == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "samplekeyhere",
    }


def test_the_refused_answer_is_pagerdutys():
    answer = pagerduty.refused_answer(refused(trigger(event_action="page")))
    assert answer["status"] == "invalid event"
    assert answer["message"] == "Event object is invalid"
    assert answer["errors"][0].startswith("event_action: ")


def test_custom_details_as_a_string_is_the_description():
    [event] = pagerduty.read(trigger_payload(custom_details="Disk /var is 97% full"))
    assert event.description == "Disk /var is 97% full"
    assert "ping time" not in event.labels


def test_nested_custom_details_are_kept_as_json():
    [event] = pagerduty.read(
        trigger_payload(custom_details={"firing": {"alerts": [1, 2]}, "ok": True, "none": None})
    )
    assert event.labels["firing"] == '{"alerts": [1, 2]}'
    assert event.labels["ok"] == "true"
    assert event.labels["none"] == ""


def test_a_long_summary_is_cut_and_kept_whole_in_the_description():
    summary = "x" * 1024
    [event] = pagerduty.read(trigger_payload(summary=summary, custom_details=None))
    assert event.summary == "x" * SUMMARY_LENGTH
    assert event.description == summary


# Refusals -------------------------------------------------------------------------------------


def without(payload: dict, name: str) -> dict:
    payload.pop(name)
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (without(trigger(), "routing_key"), "routing_key"),
        (trigger(routing_key=""), "routing_key"),
        (trigger(routing_key="k" * 65), "routing_key"),
        (trigger(routing_key=" padded "), "routing_key"),
        (without(trigger(), "event_action"), "event_action"),
        (trigger(event_action="page"), "event_action"),
        (trigger(event_action=["trigger"]), "event_action"),
        (without(trigger(), "payload"), "payload"),
        (trigger(payload="summary"), "payload"),
        (trigger_payload(summary=""), "payload.summary"),
        (trigger_payload(summary=None), "payload.summary"),
        (trigger_payload(summary="s" * 1025), "payload.summary"),
        (trigger_payload(summary=["a list"]), "payload.summary"),
        (trigger_payload(summary={"an": "object"}), "payload.summary"),
        (trigger_payload(summary=True), "payload.summary"),
        (trigger_payload(summary="NUL \x00 inside"), "payload.summary"),
        (trigger_payload(source=""), "payload.source"),
        (trigger_payload(severity=""), "payload.severity"),
        (trigger_payload(severity="fatal"), "payload.severity"),
        (trigger_payload(timestamp="2015-07-17T08:42:58"), "payload.timestamp"),
        (trigger_payload(timestamp="yesterday"), "payload.timestamp"),
        (trigger_payload(component=["x"]), "payload.component"),
        (trigger_payload(group={"a": 1}), "payload.group"),
        (trigger_payload(**{"class": "bell\x07"}), "payload.class"),
        (trigger_payload(custom_details=[1, 2]), "payload.custom_details"),
        (trigger_payload(custom_details=42), "payload.custom_details"),
        (
            trigger_payload(custom_details={str(i): i for i in range(MAX_LABELS + 1)}),
            "payload.custom_details",
        ),
        (
            trigger_payload(custom_details={str(i): i for i in range(MAX_LABELS - 2)}),
            "payload.custom_details",
        ),
        (trigger(dedup_key="d" * 256), "dedup_key"),
        (trigger(dedup_key={"a": 1}), "dedup_key"),
        (trigger(dedup_key="key\x00"), "dedup_key"),
        (trigger(links={"href": "https://example.com/"}), "links"),
        (trigger(links=[{"href": "https://example.com/"}] * (MAX_LABELS + 1)), "links"),
        (trigger(links=["https://example.com/"]), "links[0]"),
        (trigger(links=[{"text": "no href"}]), "links[0].href"),
        (trigger(links=[{"href": "javascript:alert(1)"}]), "links[0].href"),
        (trigger(links=[{"href": "https://ok.example/"}, {"href": "ftp://x/"}]), "links[1].href"),
        (trigger(links=[{"href": "https://example.com/", "text": ["x"]}]), "links[0].text"),
        (trigger(images=[{"href": "https://example.com/"}]), "images[0].src"),
        (trigger(images=[{"src": "http://example.com/a.png"}]), "images[0].src"),
        (
            trigger(images=[{"src": "https://example.com/a.png", "href": "data:x"}]),
            "images[0].href",
        ),
        (trigger(images=[[]]), "images[0]"),
        (trigger(client_url="not a url"), "client_url"),
        (trigger(client=["x"]), "client"),
        (trigger(links=[{"href": "https://example.com/"}] * MAX_LABELS), "links"),
    ],
)
def test_refusals_name_the_field(payload, field):
    assert refused(payload).field == field


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_need_a_dedup_key(action):
    payload = load(f"pagerduty_{action}.json")
    del payload["dedup_key"]
    assert refused(payload).field == "dedup_key"
    assert refused({**payload, "dedup_key": ""}).field == "dedup_key"


@pytest.mark.parametrize("body", [None, [], "a string", 42, [load("pagerduty_trigger.json")]])
def test_a_body_that_is_not_an_object_is_refused(body):
    assert refused(body).field == "body"


def test_a_32_character_routing_key_and_a_255_character_dedup_key_are_taken():
    [event] = pagerduty.read(trigger(routing_key="R" * 32, dedup_key="d" * 255))
    assert event.key == "d" * 255


def test_unknown_fields_are_ignored_and_kept_raw():
    [event] = pagerduty.read(trigger(extra={"kept": True}))
    assert event.raw["extra"] == {"kept": True}


def test_a_huge_custom_detail_is_cut_not_refused():
    [event] = pagerduty.read(trigger_payload(custom_details={"log": "y" * 100_000}))
    assert len(event.labels["log"]) == 10_000
    assert len(event.description) <= 10_000
