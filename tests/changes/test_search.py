"""Changes, releases and deployments in the kernel's search: staff find them by words,
by version, by pipeline, and open one by its number; end users find none."""

import pytest

from itsm.core import search
from practices.deployments import services as deployments
from practices.releases import services as releases

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(make_change, agent):
    change = make_change(
        title="Rotate the TLS certificates of the mail relay",
        description="The certificates expire at the end of the month.",
    )
    release = releases.open_release(
        agent, {"title": "ERP autumn release", "release_version": "2026.10"}
    )
    deployment = deployments.open_deployment(
        agent,
        {"release": release, "environment": "staging", "pipeline": "erp-build", "run": "4711"},
    )
    return change, release, deployment


def numbers(hits):
    return {hit.obj.number for hit in hits}


def test_staff_find_each_kind(records, agent):
    change, release, deployment = records
    assert change.number in numbers(search.search(agent, "certificates", kinds=["changes"]))
    assert release.number in numbers(search.search(agent, "2026.10", kinds=["releases"]))
    assert deployment.number in numbers(search.search(agent, "erp-build", kinds=["deployments"]))
    for record in records:
        hit = search.lookup(agent, record.number.lower())
        assert hit is not None and hit.obj == record


def test_end_users_find_none(records, alice):
    assert not search.search(alice, "certificates")
    assert not search.search(alice, "erp-build")
    assert all(search.lookup(alice, r.number) is None for r in records)
