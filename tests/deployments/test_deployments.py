"""Deployments recorded by people: a successful one records the deployed version on its
CIs, in the CMDB's history; a CI of another environment or without a version keeps its."""

import pytest
from django.test import Client

from cmdb import services as cmdb_services
from practices.deployments import services
from practices.deployments.models import Deployment
from practices.releases import services as release_services
from tests.factories import ci


def deploy(actor, **data):
    return services.open_deployment(actor, {"environment": "production", **data})


@pytest.mark.django_db
class TestVersions:
    def test_a_success_moves_the_cis_version_in_their_history(self, agent):
        app = ci("shop-web", "application", attributes={"version": "2.3.0"})
        staging_app = ci("shop-web-stg", "application", environment="staging")
        host = ci("web-01", "server", attributes={"hostname": "web-01"})
        release = release_services.open_release(
            agent,
            {
                "title": "Shop 2.4",
                "release_version": "2.4.0",
                "configuration_items": [app, staging_app, host],
            },
        )
        deployment = deploy(agent, release=release, deployed_by=agent)
        assert deployment.software_version == "2.4.0"  # the release's
        assert set(deployment.configuration_items.all()) == {app, staging_app, host}
        deployment = services.update_deployment(deployment, agent, {"state": "in_progress"})
        assert deployment.started_at is not None
        deployment = services.update_deployment(deployment, agent, {"state": "succeeded"})
        assert deployment.ended_at is not None
        app.refresh_from_db()
        staging_app.refresh_from_db()
        assert app.attributes["version"] == "2.4.0"
        assert "version" not in staging_app.attributes  # another environment
        changes = [
            e.data for e in cmdb_services.history(app) if "attributes.version" in (e.data or {})
        ]
        assert changes == [{"attributes.version": ["2.3.0", "2.4.0"]}]
        notes = [e.body for e in cmdb_services.history(app)]
        assert any(deployment.number in body for body in notes)

    def test_a_failure_records_no_version(self, agent):
        app = ci("shop-web", "application", attributes={"version": "2.3.0"})
        deployment = deploy(agent, build="shop-2.4.0", software_version="2.4.0")
        deployment.configuration_items.set([app])
        for state in ("in_progress", "failed", "rolled_back"):
            deployment = services.update_deployment(deployment, agent, {"state": state})
        app.refresh_from_db()
        assert app.attributes["version"] == "2.3.0"

    def test_a_deployment_names_what_it_deploys(self, api_as, agent):
        response = api_as(agent).post(
            "/api/v1/deployments/", {"environment": "staging"}, format="json"
        )
        assert response.status_code == 400 and "build" in response.json()
        assert not Deployment.objects.exists()

    def test_the_pages(self, agent, alice):
        deployment = deploy(agent, build="shop-2.4.0", software_version="2.4.0")
        client = Client()
        client.force_login(agent)
        assert deployment.title == "Deploy shop-2.4.0 2.4.0 to production"
        page = client.get(f"/deployments/{deployment.number}/")
        assert page.status_code == 200 and "Not asked yet" in page.content.decode()
        assert client.get("/deployments/?view=production").status_code == 200
        client.force_login(alice)
        assert client.get(f"/deployments/{deployment.number}/").status_code == 403

    def test_the_release_page_lists_its_deployments(self, agent):
        release = release_services.open_release(
            agent, {"title": "Shop 2.4", "release_version": "2.4.0"}
        )
        deployment = deploy(agent, release=release)
        client = Client()
        client.force_login(agent)
        page = client.get(f"/releases/{release.number}/").content.decode()
        assert deployment.number in page
