from practices.releases import services
from practices.releases.models import Release

from .base import APIContract


class TestReleaseContract(APIContract):
    model = Release
    transition = {"state": "build"}
    illegal_state = "closed"
    list_screen = "/releases/"
    page_screen = True
    staff_only = True
    endpoint = "/api/v1/releases/"
    lookup = "number"
    bad_field = ("release_type", "sideways")
    patch_data = {"title": "Shop 2.5"}
    patch_journal_field = "title"

    def create_data(self, request):
        return {"title": "Shop 2.4", "release_version": "2.4.0", "release_type": "minor"}

    def make(self, request):
        return services.open_release(
            request.getfixturevalue("agent"),
            {"title": "Shop 2.4", "release_version": "2.4.0"},
        )
