"""Monitoring and event management (ITIL 4): monitoring tools send webhooks; each is read
into normalised events (``normalise``), which become alerts people act on (deduplicated
on a per-source key), correlated and turned into incidents.

This package holds, so far, the receivers' reading of each tool's payload: Prometheus
Alertmanager (webhook version 4), Grafana unified alerting (with its HMAC signature),
PagerDuty Events API v2, Zabbix (the webhook media type in ``zabbix_media/``) and a generic
JSON event. The alerts, their correlation and the incidents they open come next."""
