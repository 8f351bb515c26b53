"""Our generic JSON event read into events: one object or a list, keys from message_key or
source|node|type|resource|metric, clear severity as resolution, refusals with their field."""

from datetime import UTC, datetime, timedelta

import pytest

from practices.monitoring import generic
from practices.monitoring.events import MAX_ALERTS, SUMMARY_LENGTH, TEXT_LENGTH, PayloadRefused
from tests.monitoring.conftest import load


def batch():
    return load("generic_batch.json")


def one(**changes):
    event = batch()[0]
    event.update(changes)
    return event


def refused(payload) -> PayloadRefused:
    with pytest.raises(PayloadRefused) as caught:
        generic.read(payload)
    return caught.value


def test_a_list_reads_one_event_each():
    backup, cert = generic.read(batch())
    assert backup.source_kind == "generic"
    assert backup.key == "backup-cron|db-01.example.org|backup|/var/lib/postgresql|age_hours"
    assert backup.status == "firing"
    assert backup.severity == "major"
    assert backup.summary == "The last base backup is 30 hours old."
    assert backup.description.endswith("The backup job failed twice.")
    assert (backup.node, backup.event_type, backup.resource, backup.metric) == (
        "db-01.example.org",
        "backup",
        "/var/lib/postgresql",
        "age_hours",
    )
    assert backup.labels == {"age_hours": "30", "last_success": "2026-12-06T21:00:00Z"}
    assert backup.occurred_at == datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    assert backup.occurred_at.utcoffset() == timedelta(hours=1)
    assert backup.ended_at is None
    assert backup.raw == batch()[0]
    assert cert.key == "cert-expiry/www.example.org"
    assert cert.severity == "warning"


def test_one_object_is_one_event_and_a_resend_has_the_same_key():
    (event,) = generic.read(one())
    (again,) = generic.read(one(description="Now 31 hours old.", time="2026-12-08T04:00:00Z"))
    assert again.key == event.key
    assert again.description == "Now 31 hours old."


def test_the_key_tells_fields_apart():
    a = generic.read({"node": "a|b", "type": ""})[0].key
    b = generic.read({"node": "a", "type": "b"})[0].key
    assert a != b
    assert generic.read({"metric": "cpu"})[0].key == "||||cpu"


def test_clear_severity_and_resolved_status_resolve():
    (cleared,) = generic.read(one(severity="clear"))
    assert cleared.status == "resolved"
    assert cleared.severity == "clear"
    assert cleared.ended_at == cleared.occurred_at
    (resolved,) = generic.read(one(status="RESOLVED"))
    assert (resolved.status, resolved.severity) == ("resolved", "major")
    assert resolved.key == generic.read(one())[0].key
    (explicit,) = generic.read(one(severity="clear", status="resolved"))
    assert explicit.status == "resolved"


def test_defaults_warning_firing_and_a_summary_from_the_fields():
    (event,) = generic.read({"node": "web-7", "type": "http_down"})
    assert (event.severity, event.status) == ("warning", "firing")
    assert event.summary == "http_down on web-7"
    assert event.occurred_at is None
    assert event.labels == {}
    (keyed,) = generic.read({"message_key": "job-42"})
    assert keyed.key == "job-42"
    assert keyed.summary == "job-42"
    (summarised,) = generic.read({"metric": "disk", "summary": "Disk full"})
    assert summarised.summary == "Disk full"


@pytest.mark.parametrize("severity", ["critical", "major", "minor", "warning", "info", "Info"])
def test_every_severity_is_taken(severity):
    assert generic.read(one(severity=severity))[0].severity == severity.lower()


@pytest.mark.parametrize(
    ("payload", "field", "says"),
    [
        ({"source": "x"}, "node", "node, type, resource and metric"),
        ({"source": "x", "node": "", "description": "d"}, "node", "message_key"),
        (one(severity="disaster"), "severity", "critical"),
        (one(severity=5), "severity", ""),
        (one(status="acknowledged"), "status", "firing, resolved"),
        (one(status="firing", severity="clear"), "status", "clear"),
        (one(node=["db-01"]), "node", ""),
        (one(type={"a": 1}), "type", ""),
        (one(resource=True), "resource", ""),
        (one(metric="m\x00"), "metric", ""),
        (one(source="s\x0b"), "source", ""),
        (one(message_key={"k": 1}), "message_key", ""),
        (one(description=["d"]), "description", ""),
        (one(summary="a\x7f\x01"), "summary", ""),
        (one(additional_info="x=1"), "additional_info", ""),
        (one(additional_info={"k": "v\x00"}), "additional_info.k", ""),
        (one(additional_info={f"k{n}": n for n in range(101)}), "additional_info", ""),
        (one(time="2026-12-08 03:00"), "time", ""),
        (one(time="2026-12-08T03:00:00"), "time", ""),
        (one(time="2026-12-08T03:00:00+16:00"), "time", ""),
        (one(time="2026-12-08T03:00:00-23:59"), "time", ""),
        (one(time="2026-12-08T03:00:00+99:99"), "time", ""),
        (one(time=1733626800), "time", ""),
    ],
)
def test_refusals_of_an_object_name_its_field(payload, field, says):
    error = refused(payload)
    assert error.field == field
    assert says in str(error.message)


def test_refusals_in_a_list_name_the_place():
    events = batch()
    events[1]["severity"] = "fatal"
    assert refused(events).field == "[1].severity"
    events = batch()
    del events[0]["node"], events[0]["type"], events[0]["resource"], events[0]["metric"]
    assert refused(events).field == "[0].node"
    assert refused([*batch(), "event"]).field == "[2]"
    assert refused([[]]).field == "[0]"


@pytest.mark.parametrize("body", [None, "event", 42, True])
def test_a_body_that_is_neither_object_nor_list_is_refused(body):
    assert refused(body).field == "body"


def test_an_empty_or_too_long_list_is_refused():
    assert refused([]).field == "body"
    assert refused([{"node": "n"}] * (MAX_ALERTS + 1)).field == "body"
    assert len(generic.read([{"node": "n"}] * MAX_ALERTS)) == MAX_ALERTS


def test_huge_strings_are_cut_and_long_keys_stay_distinct():
    (event,) = generic.read(one(description="d" * 50_000, node="n" * 50_000, summary="s" * 50_000))
    assert len(event.description) == TEXT_LENGTH
    assert len(event.node) == 200
    assert len(event.summary) == SUMMARY_LENGTH
    first = generic.read({"message_key": "k" * 400 + "1"})[0].key
    second = generic.read({"message_key": "k" * 400 + "2"})[0].key
    assert len(first) <= 255 and first != second


def test_nested_additional_info_is_stringified():
    deep = [1]
    for _ in range(100):
        deep = [deep]
    (event,) = generic.read(one(additional_info={"deep": deep, "obj": {"a": {"b": None}}}))
    assert event.labels["deep"].startswith("[[[[")
    assert event.labels["obj"] == "{'a': {'b': None}}"
