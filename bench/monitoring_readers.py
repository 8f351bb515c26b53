"""The monitoring receivers' reading of payloads, alone (no HTTP, no database): how many
alerts a second one worker reads from Alertmanager groups (the way Alertmanager sends
them), Grafana groups with their signature checked, PagerDuty events and generic batches,
with the latency per payload (p50, p99). The ingestion target of issue 14 is 5,000
alerts/s through the HTTP receiver on 2 cores: reading must cost a small part of that.

    .venv/bin/python bench/monitoring_readers.py --payloads 2000 --group 50

Not collected by pytest, never gates CI.
"""

import argparse
import json
import statistics
import time

import benchlib


def alertmanager_group(n: int, round_: int) -> dict:
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighLatency",
                "instance": f"web-{i:04d}.example.com:9100",
                "job": "node",
                "severity": "critical" if i % 7 == 0 else "warning",
            },
            "annotations": {
                "summary": f"p99 latency above 2 s on web-{i:04d}",
                "description": "The service answers slowly.\nSee the dashboard.",
                "runbook_url": "https://runbooks.example.com/latency",
            },
            "startsAt": "2026-12-08T04:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://prometheus.example.com/graph?g0.expr=latency",
            "fingerprint": f"{round_:04x}{i:012x}",
        }
        for i in range(n)
    ]
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "itsm",
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"alertname": "HighLatency", "job": "node"},
        "commonAnnotations": {},
        "externalURL": "https://alertmanager.example.com",
        "alerts": alerts,
    }


def measure(name: str, payloads: list, read, alerts_each: int) -> None:
    took = []
    start = time.perf_counter()
    for payload in payloads:
        t = time.perf_counter()
        read(payload)
        took.append(time.perf_counter() - t)
    wall = time.perf_counter() - start
    took.sort()
    p50 = statistics.median(took) * 1000
    p99 = took[int(len(took) * 0.99) - 1] * 1000
    rate = len(payloads) * alerts_each / wall
    print(
        f"{name:<34} {len(payloads):>6} payloads  {rate:>10,.0f} alerts/s  "
        f"p50 {p50:7.3f} ms  p99 {p99:7.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--payloads", type=int, default=2000)
    parser.add_argument("--group", type=int, default=50, help="alerts per group")
    args = parser.parse_args()
    benchlib.setup_django(benchlib.database_url(args.database_url))

    from practices.monitoring import alertmanager, generic, grafana, pagerduty

    groups = [alertmanager_group(args.group, r) for r in range(args.payloads)]
    measure(f"alertmanager, groups of {args.group}", groups, alertmanager.read, args.group)

    secret = "bench-secret"
    bodies = []
    for r in range(args.payloads):
        body = {**alertmanager_group(args.group, r), "version": "1", "orgId": 1}
        body.update(state="alerting", title="[FIRING] HighLatency", message="latency")
        raw = json.dumps(body).encode()
        bodies.append((raw, grafana.signature(secret, raw)))

    def grafana_read(item):
        raw, header = item
        assert grafana.signature_valid(secret, raw, header)
        return grafana.read(json.loads(raw))

    measure(f"grafana, signed groups of {args.group}", bodies, grafana_read, args.group)

    events = [
        {
            "routing_key": "R0UTINGKEY0123456789abcdefABCDEF",
            "event_action": "trigger",
            "dedup_key": f"disk-{i}",
            "payload": {
                "summary": f"Disk almost full on db-{i % 100}",
                "source": f"db-{i % 100}.example.com",
                "severity": "error",
                "component": "postgres",
                "group": "databases",
                "class": "disk",
                "custom_details": {"free": "3%"},
            },
        }
        for i in range(args.payloads * 10)
    ]
    measure("pagerduty, one event each", events, pagerduty.read, 1)

    batches = [
        [
            {
                "source": "nagios",
                "node": f"sw-{i:03d}",
                "type": "interface",
                "resource": f"ge-0/0/{i % 48}",
                "metric": "link",
                "severity": "major",
                "description": "Link down",
            }
            for i in range(args.group)
        ]
        for _ in range(args.payloads)
    ]
    measure(f"generic, batches of {args.group}", batches, generic.read, args.group)


if __name__ == "__main__":
    main()
