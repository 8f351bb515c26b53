from incidents.models import Incident
from tests import factories

from .base import APIContract


class TestIncidentContract(APIContract):
    model = Incident
    transition = {"state": "in_progress"}
    illegal_state = "closed"
    list_screen = "/incidents/"
    page_screen = True
    endpoint = "/api/v1/incidents/"
    lookup = "number"
    patch_data = {"title": "Mail relay down"}
    patch_journal_field = "title"
    bad_field = ("impact", 9)

    def create_data(self, request):
        request.getfixturevalue("priority_matrix")
        return {"title": "VPN drops", "caller": request.getfixturevalue("alice").username}

    def make(self, request):
        return factories.incident(
            request.getfixturevalue("alice"), request.getfixturevalue("agent")
        )
