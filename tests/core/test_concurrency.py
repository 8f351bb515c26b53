"""Concurrent API writes on PostgreSQL: If-Match and Idempotency-Key under real races."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from incidents.models import Incident
from itsm.core.models import JournalEntry
from tests import factories
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

LIST = "/api/v1/incidents/"


def run_together(jobs):
    """Run the callables in threads released at the same moment; returns their results."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i, job):
        try:
            barrier.wait(timeout=30)
            results[i] = job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_patches_of_one_version_one_wins(agent, agent2, alice, writers):
    incident = factories.incident(alice, actor=agent)
    etag = incident.etag
    url = f"{LIST}{incident.number}/"
    journal = JournalEntry.objects.for_record(incident).filter(kind="fields").count()

    def patch(n):
        user = agent if n % 2 else agent2
        return lambda: client_for(user).patch(url, {"title": f"Writer {n}"}, HTTP_IF_MATCH=etag)

    responses = run_together([patch(n) for n in range(writers)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [412] * (writers - 1)

    winner = next(r for r in responses if r.status_code == 200)
    incident.refresh_from_db()
    assert incident.version == 2
    assert incident.title == winner.json()["title"]
    assert winner["ETag"] == incident.etag
    for loser in (r for r in responses if r.status_code == 412):
        assert loser["ETag"] == incident.etag
    fields = JournalEntry.objects.for_record(incident).filter(kind="fields").count()
    assert fields == journal + 1


def test_concurrent_retries_with_one_key_create_one_incident(agent, alice):
    payload = {"title": "Disk full", "caller": "alice"}

    def post():
        return client_for(agent).post(LIST, payload, HTTP_IDEMPOTENCY_KEY="retry-1")

    responses = run_together([post for _ in range(4)])
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.json()["number"] for r in responses}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == 3
    assert Incident.objects.count() == 1
