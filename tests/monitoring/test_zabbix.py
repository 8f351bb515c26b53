"""Zabbix: our webhook media type's body read into events (a problem, its acknowledgement
and its recovery on one key, severities, macros Zabbix left unexpanded, refusals), and the
media type itself: its YAML export parses, maps the macros the receiver reads, and its
script is ``itsm_webhook.js``, run with node against a fake ``HttpRequest`` when node is
installed."""

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from practices.monitoring import zabbix
from practices.monitoring.events import (
    ACKNOWLEDGED,
    FIRING,
    MAX_LABELS,
    RESOLVED,
    SUMMARY_LENGTH,
    PayloadRefused,
)
from tests.monitoring.conftest import load

MEDIA = Path(zabbix.__file__).parent / "zabbix_media"


def problem(**changes):
    payload = load("zabbix_problem.json")
    payload.update(changes)
    return payload


def refused(payload) -> PayloadRefused:
    with pytest.raises(PayloadRefused) as caught:
        zabbix.read(payload)
    return caught.value


# Reading ----------------------------------------------------------------------------------------


def test_a_problem_reads_as_one_firing_event_keyed_on_its_event_id():
    [event] = zabbix.read(problem())
    assert event.source_kind == "zabbix"
    assert event.key == event.source_event_id == "4187"
    assert event.status == FIRING
    assert event.severity == "major"
    assert event.summary == "High CPU utilization (over 90% for 5m)"
    assert event.description.startswith("CPU utilization is too high")
    assert event.node == "web-01.example.com"
    assert event.event_type == "trigger"
    assert event.occurred_at == datetime(2024, 12, 8, 9, 50, tzinfo=UTC)
    assert event.ended_at is None
    assert event.labels == {
        "class": "os",
        "component": "cpu",
        "scope": "performance",
        "target": "linux",
        "zabbix.host": "web-01.example.com",
        "zabbix.host_name": "Web server 01",
        "zabbix.host_ip": "192.0.2.10",
        "zabbix.trigger_id": "23150",
        "zabbix.severity": "High",
        "zabbix.acknowledged": "No",
        "zabbix.opdata": "Current utilization: 97.2 %",
    }
    assert event.links == (
        {
            "href": "https://zabbix.example.com/tr_events.php?triggerid=23150&eventid=4187",
            "text": "Zabbix event",
        },
    )


def test_an_acknowledgement_is_an_update_of_the_same_alert():
    [event] = zabbix.read(load("zabbix_update.json"))
    assert event.key == "4187"
    assert event.status == ACKNOWLEDGED
    assert event.severity == "major"
    assert event.description.startswith(
        "Ada Lovelace (ada) acknowledged and commented\nLooking at it: a runaway batch job."
    )
    assert event.labels["zabbix.update_action"] == "acknowledged and commented"
    assert event.labels["zabbix.itsm_incident"] == "INC0001042"
    assert not any(name.startswith("__itsm_") for name in event.labels)


def test_a_comment_without_acknowledgement_stays_firing():
    payload = load("zabbix_update.json")
    payload.update(event_ack_status="No", event_update_action="commented")
    [event] = zabbix.read(payload)
    assert event.status == FIRING
    assert event.key == "4187"


def test_a_recovery_resolves_the_same_key():
    [event] = zabbix.read(load("zabbix_recovery.json"))
    assert event.key == event.source_event_id == "4187"
    assert event.status == RESOLVED
    assert event.severity == "major"
    assert event.occurred_at == datetime(2024, 12, 8, 9, 50, tzinfo=UTC)
    assert event.ended_at == datetime(2024, 12, 8, 10, 20, tzinfo=UTC)
    assert event.labels["zabbix.recovery_event_id"] == "4213"


def test_a_recovery_without_severity_reads_clear():
    payload = load("zabbix_recovery.json")
    payload.update(event_nseverity="{EVENT.NSEVERITY}", event_severity="")
    assert zabbix.read(payload)[0].severity == "clear"


@pytest.mark.parametrize(
    ("number", "name", "ours"),
    [
        ("0", "Not classified", "info"),
        ("1", "Information", "info"),
        ("2", "Warning", "warning"),
        ("3", "Average", "minor"),
        ("4", "High", "major"),
        ("5", "Disaster", "critical"),
    ],
)
def test_severities(number, name, ours):
    assert zabbix.read(problem(event_nseverity=number, event_severity=name))[0].severity == ours
    # Without the number, the (default) name is read.
    assert zabbix.read(problem(event_nseverity="", event_severity=name))[0].severity == ours
    # A renamed severity is read by its number.
    renamed = problem(event_nseverity=number, event_severity="Sev-" + number)
    assert zabbix.read(renamed)[0].severity == ours


def test_unexpanded_macros_read_as_empty():
    payload = problem(
        host_host="{HOST.HOST}",
        host_ip="{HOST.IP}",
        trigger_description="{TRIGGER.DESCRIPTION}",
        event_opdata="*UNKNOWN*",
        event_tags="{EVENT.TAGSJSON}",
        event_url="{$ZABBIX.URL}/tr_events.php?triggerid=23150&eventid=4187",
        trigger_url="{TRIGGER.URL}",
        event_timestamp="{EVENT.TIMESTAMP}",
        event_date="{EVENT.DATE}",
        event_ack_status="{EVENT.ACK.STATUS}",
        event_update_status="{EVENT.UPDATE.STATUS}",
        event_source="{EVENT.SOURCE}",
        timezone="{$ZABBIX.TIMEZONE}",
    )
    [event] = zabbix.read(payload)
    assert event.node == "Web server 01"
    assert event.description == ""
    assert event.occurred_at is None
    assert event.links == ()
    assert event.status == FIRING
    assert set(event.labels) == {
        "zabbix.host_name",
        "zabbix.trigger_id",
        "zabbix.severity",
    }
    assert not any("{" in value for value in event.labels.values())


def test_a_text_with_braces_that_is_not_a_macro_is_kept():
    [event] = zabbix.read(problem(trigger_description="Check {curly} config; see {HOST.NAME} docs"))
    assert event.description == "Check {curly} config; see {HOST.NAME} docs"


def test_tags_as_zabbix_json_text_and_repeated_tags():
    tags = json.dumps(
        [
            {"tag": "service", "value": "shop"},
            {"tag": "service", "value": "api"},
            {"tag": "service", "value": "shop"},
            {"tag": "novalue", "value": ""},
        ]
    )
    [event] = zabbix.read(problem(event_tags=tags))
    assert event.labels["service"] == "shop, api"
    assert event.labels["novalue"] == ""


def test_a_time_from_date_and_time_in_the_servers_zone():
    payload = problem(
        event_timestamp="", event_date="2024.12.08", event_time="10:50:00", timezone="Europe/Berlin"
    )
    assert zabbix.read(payload)[0].occurred_at == datetime(
        2024, 12, 8, 10, 50, tzinfo=timezone(timedelta(hours=1))
    )
    payload["timezone"] = ""
    assert zabbix.read(payload)[0].occurred_at == datetime(2024, 12, 8, 10, 50, tzinfo=UTC)


def test_internal_and_service_events_are_read():
    assert zabbix.read(problem(event_source="3"))[0].event_type == "internal"
    assert zabbix.read(problem(event_source="4"))[0].event_type == "service"


def test_the_summary_falls_back_on_the_trigger_name_and_is_cut():
    assert zabbix.read(problem(event_name=""))[0].summary.startswith("High CPU")
    assert zabbix.read(problem(event_name="n" * 1000))[0].summary == "n" * SUMMARY_LENGTH


def test_urls_that_are_not_http_are_left_out():
    [event] = zabbix.read(problem(event_url="javascript:alert(1)", trigger_url="zabbix.local/x"))
    assert event.links == ()
    [event] = zabbix.read(problem(trigger_url="https://wiki.example.com/runbooks/cpu"))
    assert event.links[-1] == {
        "href": "https://wiki.example.com/runbooks/cpu",
        "text": "Trigger URL",
    }


def test_the_token_is_never_kept():
    [event] = zabbix.read(problem(itsm_token="secret"))
    assert "itsm_token" not in event.raw


def test_unexpanded_detects_zabbix_macro_forms():
    for macro in (
        "{EVENT.ID}",
        "{$ZABBIX.URL}",
        '{$M:"context"}',
        "{#LLD.NAME}",
        "{EVENT.TAGS.__itsm_incident}",
        '{{EVENT.TIMESTAMP}.fmttime("%x")}',
        "*UNKNOWN*",
        " {HOST.IP} ",
    ):
        assert zabbix.unexpanded(macro), macro
    for data in ("", "4187", "{curly}", "see {HOST.NAME}", "{}", "{EVENT.ID}{EVENT.ID}"):
        assert not zabbix.unexpanded(data), data


# Refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"event_id": ""}, "event_id"),
        ({"event_id": "{EVENT.ID}"}, "event_id"),
        ({"event_id": "12a"}, "event_id"),
        ({"event_id": "1" * 21}, "event_id"),
        ({"event_id": ["4187"]}, "event_id"),
        ({"event_id": "41\x0087"}, "event_id"),
        ({"event_recovery_id": "abc"}, "event_recovery_id"),
        ({"event_value": ""}, "event_value"),
        ({"event_value": "{EVENT.VALUE}"}, "event_value"),
        ({"event_value": "2"}, "event_value"),
        ({"event_value": True}, "event_value"),
        ({"event_update_status": "yes"}, "event_update_status"),
        ({"event_source": "1"}, "event_source"),
        ({"event_source": "2"}, "event_source"),
        ({"event_nseverity": "7"}, "event_nseverity"),
        ({"event_nseverity": "", "event_severity": "Custom"}, "event_nseverity"),
        (
            {"event_nseverity": "{EVENT.NSEVERITY}", "event_severity": "{EVENT.SEVERITY}"},
            "event_nseverity",
        ),
        ({"event_name": "", "trigger_name": ""}, "event_name"),
        ({"event_name": "{EVENT.NAME}", "trigger_name": "{TRIGGER.NAME}"}, "event_name"),
        ({"event_name": {"a": 1}}, "event_name"),
        ({"event_timestamp": "yesterday"}, "event_timestamp"),
        ({"event_timestamp": "9" * 40}, "event_timestamp"),
        ({"event_timestamp": "", "event_date": "08.12.2024"}, "event_date"),
        ({"event_timestamp": "", "event_time": "25:61:00"}, "event_date"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"event_tags": "not json"}, "event_tags"),
        ({"event_tags": {"tag": "a"}}, "event_tags"),
        ({"event_tags": ["a"]}, "event_tags[0]"),
        ({"event_tags": [{"value": "x"}]}, "event_tags[0].tag"),
        ({"event_tags": [{"tag": "a", "value": ["x"]}]}, "event_tags[0].value"),
        (
            {"event_tags": [{"tag": str(i), "value": ""} for i in range(MAX_LABELS + 1)]},
            "event_tags",
        ),
        (
            {"event_tags": [{"tag": str(i), "value": ""} for i in range(MAX_LABELS - 2)]},
            "event_tags",
        ),
        ({"host_host": "web\x00"}, "host_host"),
        ({"trigger_description": "bell \x07"}, "trigger_description"),
    ],
)
def test_refusals_name_the_field(changes, field):
    assert refused(problem(**changes)).field == field


@pytest.mark.parametrize("body", [None, [], "text", 4187])
def test_a_body_that_is_not_an_object_is_refused(body):
    assert refused(body).field == "body"


def test_an_update_without_severity_reads_info():
    payload = load("zabbix_update.json")
    payload.update(event_nseverity="", event_severity="")
    assert zabbix.read(payload)[0].severity == "info"


def test_huge_texts_are_cut_not_refused():
    [event] = zabbix.read(problem(trigger_description="d" * 100_000))
    assert len(event.description) == 10_000


# The media type -------------------------------------------------------------------------------


def media_type() -> dict:
    export = yaml.safe_load((MEDIA / "itsm_webhook.yaml").read_text())
    assert export["zabbix_export"]["version"] == "6.0"
    [media] = export["zabbix_export"]["media_types"]
    return media


def script() -> str:
    return (MEDIA / "itsm_webhook.js").read_text()


def test_the_media_type_is_a_webhook_writing_tags_back_with_an_event_menu():
    media = media_type()
    assert media["name"] == "ITSM"
    assert media["type"] == "WEBHOOK"
    assert media["process_tags"] == "YES"
    assert media["show_event_menu"] == "YES"
    assert media["event_menu_url"] == "{EVENT.TAGS.__itsm_link}"
    assert "{EVENT.TAGS.__itsm_incident}" in media["event_menu_name"]
    modes = {(t["event_source"], t["operation_mode"]) for t in media["message_templates"]}
    assert {("TRIGGERS", "PROBLEM"), ("TRIGGERS", "RECOVERY"), ("TRIGGERS", "UPDATE")} <= modes


def test_the_yaml_script_is_the_js_file():
    assert media_type()["script"] == script()


def test_the_parameters_map_the_macros_the_receiver_reads():
    parameters = {p["name"]: p.get("value", "") for p in media_type()["parameters"]}
    assert len(parameters) == len(media_type()["parameters"])
    expected = {
        "event_source": "{EVENT.SOURCE}",
        "event_id": "{EVENT.ID}",
        "event_recovery_id": "{EVENT.RECOVERY.ID}",
        "event_value": "{EVENT.VALUE}",
        "event_update_status": "{EVENT.UPDATE.STATUS}",
        "event_update_action": "{EVENT.UPDATE.ACTION}",
        "event_update_message": "{EVENT.UPDATE.MESSAGE}",
        "event_update_user": "{USER.FULLNAME}",
        "event_ack_status": "{EVENT.ACK.STATUS}",
        "event_name": "{EVENT.NAME}",
        "event_severity": "{EVENT.SEVERITY}",
        "event_nseverity": "{EVENT.NSEVERITY}",
        "event_opdata": "{EVENT.OPDATA}",
        "event_timestamp": "{EVENT.TIMESTAMP}",
        "event_date": "{EVENT.DATE}",
        "event_time": "{EVENT.TIME}",
        "event_recovery_timestamp": "{EVENT.RECOVERY.TIMESTAMP}",
        "event_recovery_date": "{EVENT.RECOVERY.DATE}",
        "event_recovery_time": "{EVENT.RECOVERY.TIME}",
        "event_tags": "{EVENT.TAGSJSON}",
        "host_host": "{HOST.HOST}",
        "host_name": "{HOST.NAME}",
        "host_ip": "{HOST.IP}",
        "trigger_id": "{TRIGGER.ID}",
        "trigger_name": "{TRIGGER.NAME}",
        "trigger_description": "{TRIGGER.DESCRIPTION}",
        "trigger_url": "{TRIGGER.URL}",
        "itsm_incident": "{EVENT.TAGS.__itsm_incident}",
    }
    for name, macro in expected.items():
        assert parameters[name] == macro, name
    assert "{EVENT.ID}" in parameters["event_url"]
    assert parameters["event_url"].startswith("{$ZABBIX.URL}/tr_events.php?")
    assert {"itsm_url", "itsm_token", "HTTPProxy", "timezone"} <= set(parameters)
    # Every field the fixtures carry (what the receiver reads) is a parameter.
    for fixture in ("zabbix_problem.json", "zabbix_update.json", "zabbix_recovery.json"):
        assert set(load(fixture)) <= set(parameters), fixture
    # Every field the reader's docstring lists is a parameter too.
    documented = set(re.findall(r"^    ([a-z_]+(?:, [a-z_]+)*) ", zabbix.__doc__, re.M))
    names = {name for line in documented for name in line.split(", ")}
    assert names and names <= set(parameters), names - set(parameters)


def test_every_parameter_the_script_reads_exists():
    parameters = {p["name"] for p in media_type()["parameters"]}
    read = set(re.findall(r"params\.([A-Za-z_]+)", script()))
    assert read <= parameters, read - parameters
    assert {"itsm_url", "itsm_token", "itsm_incident"} <= read


def test_the_script_uses_httprequest_as_zabbix_documents_it():
    text = script()
    assert "new HttpRequest()" in text
    assert "addHeader('Authorization: Bearer ' + params.itsm_token)" in text
    assert ".post(params.itsm_url, JSON.stringify(body))" in text
    assert ".getStatus()" in text
    # Duktape runs ECMAScript 5.1.
    code = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    assert not re.search(r"\b(let|const)\s|=>|`", code)


# The script, run ------------------------------------------------------------------------------

NODE = shutil.which("node")

HARNESS = r"""
const fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const requests = [];
const logs = [];
function HttpRequest() {
    this.headers = [];
    this.proxy = null;
}
HttpRequest.prototype.addHeader = function (header) { this.headers.push(header); };
HttpRequest.prototype.setProxy = function (proxy) { this.proxy = proxy; };
HttpRequest.prototype.post = function (url, data) {
    requests.push({url: url, body: data, headers: this.headers, proxy: this.proxy});
    this.status = input.status;
    return input.answer;
};
HttpRequest.prototype.getStatus = function () { return this.status; };
const Zabbix = {log: function (level, message) { logs.push([level, message]); }};
const run = new Function('value', 'HttpRequest', 'Zabbix', input.script);
let out;
try {
    out = {returned: run(JSON.stringify(input.params), HttpRequest, Zabbix)};
} catch (error) {
    out = {thrown: String(error)};
}
out.requests = requests;
out.logs = logs;
process.stdout.write(JSON.stringify(out));
"""


def run_script(params: dict, *, status=202, answer="") -> dict:
    if not NODE:
        pytest.skip("node is not installed")
    completed = subprocess.run(
        [NODE, "-e", HARNESS],
        input=json.dumps(
            {"script": script(), "params": params, "status": status, "answer": answer}
        ),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(completed.stdout)


def media_params(**changes) -> dict:
    """The parameters as Zabbix would pass them for the problem fixture."""
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in problem().items()}
    params.update(
        itsm_url="https://itsm.example.com/api/v1/events/zabbix/", itsm_token="t0ken", HTTPProxy=""
    )
    params.update(changes)
    return params


def test_the_script_posts_the_body_and_returns_the_incident_tags():
    answer = json.dumps(
        {"incident": "INC0001042", "url": "https://itsm.example.com/incidents/INC0001042/"}
    )
    out = run_script(media_params(), status=202, answer=answer)
    assert "thrown" not in out, out
    assert json.loads(out["returned"]) == {
        "tags": {
            "__itsm_incident": "INC0001042",
            "__itsm_link": "https://itsm.example.com/incidents/INC0001042/",
        }
    }
    [request] = out["requests"]
    assert request["url"] == "https://itsm.example.com/api/v1/events/zabbix/"
    assert "Authorization: Bearer t0ken" in request["headers"]
    assert "Content-Type: application/json" in request["headers"]
    assert request["proxy"] is None
    body = json.loads(request["body"])
    assert not {"itsm_url", "itsm_token", "HTTPProxy"} & set(body)
    assert body["event_tags"] == problem()["event_tags"]
    # What the script posts is what the receiver reads.
    [event] = zabbix.read(body)
    assert event.key == "4187"
    assert event.labels["component"] == "cpu"
    assert "t0ken" not in json.dumps(out["logs"])


def test_the_script_writes_the_incident_back_only_once():
    answer = json.dumps({"incident": "INC0001042", "url": "https://itsm.example.com/x"})
    out = run_script(media_params(itsm_incident="INC0001042"), answer=answer)
    assert json.loads(out["returned"]) == {"tags": {}}


def test_the_script_returns_no_tags_without_an_incident():
    for answer in ("", "{}", "not json", json.dumps({"incident": ""})):
        out = run_script(media_params(), status=200, answer=answer)
        assert json.loads(out["returned"]) == {"tags": {}}, answer


@pytest.mark.parametrize("status", [400, 401, 404, 500, 503, 0])
def test_the_script_throws_on_anything_but_2xx(status):
    out = run_script(media_params(), status=status, answer='{"event_id": ["bad"]}')
    assert "returned" not in out
    assert str(status) in out["thrown"]


@pytest.mark.parametrize(
    "changes",
    [
        {"itsm_url": "<PLACE THE RECEIVER URL HERE>"},
        {"itsm_url": "ftp://itsm.example.com/"},
        {"itsm_token": "<PLACE THE INTEGRATION TOKEN HERE>"},
        {"itsm_token": ""},
    ],
)
def test_the_script_refuses_to_send_without_its_settings(changes):
    out = run_script(media_params(**changes))
    assert out["requests"] == []
    assert "itsm_" in out["thrown"]


def test_the_script_uses_the_proxy_and_sends_unparsable_tags_as_they_are():
    out = run_script(media_params(HTTPProxy="http://proxy:3128", event_tags="[not json"))
    [request] = out["requests"]
    assert request["proxy"] == "http://proxy:3128"
    assert json.loads(request["body"])["event_tags"] == "[not json"
