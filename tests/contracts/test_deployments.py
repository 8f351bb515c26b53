from practices.deployments import services
from practices.deployments.models import Deployment

from .base import APIContract


class TestDeploymentContract(APIContract):
    model = Deployment
    transition = {"state": "in_progress"}
    illegal_state = "succeeded"
    list_screen = "/deployments/"
    page_screen = True
    staff_only = True
    endpoint = "/api/v1/deployments/"
    lookup = "number"
    bad_field = ("environment", "moon")
    patch_data = {"title": "Deploy the shop 2.4.1 to staging"}
    patch_journal_field = "title"

    def create_data(self, request):
        return {"build": "shop-2.4.1", "software_version": "2.4.1", "environment": "staging"}

    def make(self, request):
        return services.open_deployment(
            request.getfixturevalue("agent"),
            {"build": "shop-2.4.1", "software_version": "2.4.1", "environment": "staging"},
        )
