"""The practice map's figures of change enablement, release and deployment management."""

import pytest

from changes import services
from changes.kpis import change_kpis
from practices.deployments.kpis import deployment_kpis
from practices.releases.kpis import release_kpis
from tests import factories

pytestmark = pytest.mark.django_db


def close(change, agent, code, **data):
    change = services.update_change(change, agent, {"state": "review"})
    return services.update_change(change, agent, {"state": "closed", "closure_code": code, **data})


def test_success_rate_emergency_share_and_changes_causing_incidents(
    make_change, agent, alice, registration_model, emergency_model
):
    close(make_change(model=registration_model), agent, "successful")
    close(make_change(model=registration_model), agent, "successful_with_issues")
    failed = make_change(model=registration_model)
    broken = factories.incident(alice, title="Wi-Fi down after the upgrade")
    failed = services.update_change(failed, agent, {"caused_incidents": [broken]})
    close(failed, agent, "failed", closure_notes="Rolled back")
    make_change(model=emergency_model)
    figures = dict(change_kpis())
    assert figures["Change success rate (90 days)"] == "67% (2 of 3)"
    assert figures["Changes causing incidents (90 days)"] == "33% (1 of 3)"
    assert figures["Emergency changes (90 days)"] == "25% (1 of 4)"
    assert figures["Open changes"] == "1"


def test_release_and_deployment_figures_are_read_without_data():
    assert dict(release_kpis())["Releases in progress"] == "0"
    assert dict(deployment_kpis())["Deployment success rate (30 days)"] == "—"
