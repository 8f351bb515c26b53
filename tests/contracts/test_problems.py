from problems import services
from problems.models import Problem

from .base import APIContract


class TestProblemContract(APIContract):
    model = Problem
    transition = {"state": "assessed"}
    illegal_state = "archived"  # from new, every state is reachable (with what it asks)
    list_screen = "/problems/"
    page_screen = True
    staff_only = True  # end users are refused the whole type
    endpoint = "/api/v1/problems/"
    lookup = "number"
    # Impact is one of high, medium, low.
    bad_field = ("impact", "severe")
    patch_data = {"title": "Mail relay drops connections under load"}
    patch_journal_field = "title"

    def create_data(self, request):
        return {
            "title": "Intermittent VPN drops",
            "impact": "high",
            "probability": "medium",
            "assignment_group": request.getfixturevalue("service_desk").pk,
        }

    def make(self, request):
        return services.open_problem(
            request.getfixturevalue("agent"),
            {
                "title": "Mail relay drops connections",
                "assignment_group": request.getfixturevalue("service_desk"),
            },
        )

    # The outsider is the default: bob, an end user (problems are staff work; end users
    # read published workarounds through the known error database only).
