"""Release management: release notes shown sanitised, the lifecycle's guards (a version
before the build, every change carried authorised before deployment), the screens."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from changes import services as change_services
from changes.models import ApprovalState
from practices.releases import services
from practices.releases.models import Release
from tests.factories import ci

NOTES = """## New

* Faster **checkout**

<script>alert("owned")</script>
<img src="x" onerror="alert(1)">
[click](javascript:alert(2))
"""


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestReleaseNotes:
    def test_the_notes_are_markdown_without_scripts(self, api_as, agent):
        response = api_as(agent).post(
            "/api/v1/releases/",
            {"title": "Shop 2.4", "release_version": "2.4.0", "release_notes": NOTES},
            format="json",
        )
        assert response.status_code == 201, response.content
        rendered = response.json()["release_notes_html"]
        assert "<h2>New</h2>" in rendered and "<strong>checkout</strong>" in rendered
        for unsafe in ("<script", 'alert("owned")', "onerror", "javascript:"):
            assert unsafe not in rendered
        page = browser(agent).get(f"/releases/{response.json()['number']}/")
        html = page.content.decode()
        assert page.status_code == 200
        notes = html.split('class="description release-notes">', 1)[1].split("</div>", 1)[0]
        assert "<h2>New</h2>" in notes
        for unsafe in ("<script", "owned", "onerror", "javascript:"):
            assert unsafe not in notes
        assert '<script>alert("owned")' not in html  # the edit form shows the text escaped


@pytest.mark.django_db
class TestLifecycle:
    def test_the_build_needs_a_version(self, agent):
        release = services.open_release(agent, {"title": "Shop 2.4"})
        with pytest.raises(ValidationError) as error:
            services.update_release(release, agent, {"state": "build"})
        assert "version" in str(error.value)
        release = services.update_release(
            release, agent, {"release_version": "2.4.0", "state": "build"}
        )
        assert release.state == "build" and release.actual_start is not None

    def test_deployment_waits_for_every_change_carried(self, agent, make_change, window):
        change = make_change()
        release = services.open_release(
            agent, {"title": "Shop 2.4", "release_version": "2.4.0", "changes": [change]}
        )
        for state in ("build", "test"):
            release = services.update_release(release, agent, {"state": state})
        with pytest.raises(ValidationError) as error:
            services.update_release(release, agent, {"state": "deploy"})
        assert change.number in str(error.value)
        change_services.platform_update(change, {"approval_state": ApprovalState.APPROVED})
        release = services.update_release(release, agent, {"state": "deploy"})
        release = services.update_release(release, agent, {"state": "review"})
        assert release.actual_end is not None
        release = services.update_release(release, agent, {"state": "closed"})
        assert release.closed_at is not None
        assert list(change.releases.all()) == [release]

    def test_cancelling_needs_a_reason(self, api_as, agent):
        release = services.open_release(agent, {"title": "Shop 2.4"})
        client = api_as(agent)
        refused = client.patch(
            f"/api/v1/releases/{release.number}/", {"state": "cancelled"}, format="json"
        )
        assert refused.status_code == 400 and "closure_notes" in refused.json()
        done = client.patch(
            f"/api/v1/releases/{release.number}/",
            {"state": "cancelled", "closure_notes": "Superseded by 2.5."},
            format="json",
        )
        assert done.status_code == 200 and done.json()["state"] == "cancelled"


@pytest.mark.django_db
class TestScreens:
    def test_planning_a_release_on_its_screen(self, agent, make_change):
        app = ci("shop-web", "application")
        change = make_change()
        client = browser(agent)
        assert client.get("/releases/new/").status_code == 200
        response = client.post(
            "/releases/new/",
            {
                "title": "Shop 2.4",
                "release_version": "2.4.0",
                "release_type": "major",
                "configuration_items": [app.pk],
                "changes": [change.number],
                "release_notes": "Faster *checkout*.",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        release = Release.objects.get()
        assert release.release_type == "major"
        assert list(release.configuration_items.all()) == [app]
        assert list(release.changes.all()) == [change]
        page = client.get(response.url).content.decode()
        assert "<em>checkout</em>" in page and change.number in page

    def test_an_unknown_change_is_named(self, api_as, agent):
        response = api_as(agent).post(
            "/api/v1/releases/", {"title": "Shop", "changes": ["CHG9999999"]}, format="json"
        )
        assert response.status_code == 400
        assert "CHG9999999" in str(response.json()["changes"])
        assert not Release.objects.exists()

    def test_end_users_see_no_release(self, api_as, alice, agent):
        services.open_release(agent, {"title": "Shop 2.4"})
        assert api_as(alice).get("/api/v1/releases/").status_code == 403
        client = Client()
        client.force_login(alice)
        assert client.get("/releases/").status_code == 403
