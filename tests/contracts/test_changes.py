from changes import services
from changes.models import Change, ChangeTask

from .base import APIContract


class TestChangeContract(APIContract):
    model = Change
    transition = {"state": "assess"}
    illegal_state = "implement"  # a normal change goes through assessment and authorisation
    list_screen = "/changes/"
    page_screen = True
    staff_only = True
    endpoint = "/api/v1/changes/"
    lookup = "number"
    bad_field = ("category", "sideways")
    patch_data = {"title": "Upgrade the core switches to 17.9"}
    patch_journal_field = "title"

    def create_data(self, request):
        return {
            "title": "Upgrade the core switches",
            "model": request.getfixturevalue("normal_model").pk,
            "assignment_group": request.getfixturevalue("service_desk").pk,
        }

    def make(self, request):
        return services.open_change(
            request.getfixturevalue("agent"),
            {
                "title": "Patch the mail relay",
                "model": request.getfixturevalue("normal_model"),
                "assignment_group": request.getfixturevalue("service_desk"),
            },
        )


class TestChangeTaskContract(APIContract):
    model = ChangeTask
    transition = {"state": "in_progress"}
    illegal_state = "done"
    list_screen = "/changes/tasks/"
    page_screen = True
    staff_only = True
    endpoint = "/api/v1/change-tasks/"
    lookup = "number"
    bad_field = ("stage", "first")
    patch_data = {"title": "Drain the first switch"}
    patch_journal_field = "title"

    def _change(self, request):
        return services.open_change(
            request.getfixturevalue("agent"),
            {
                "title": "Patch the mail relay",
                "model": request.getfixturevalue("normal_model"),
                "assignment_group": request.getfixturevalue("service_desk"),
            },
        )

    def create_data(self, request):
        return {"title": "Drain the switch", "change": self._change(request).number}

    def make(self, request):
        return services.open_task(
            request.getfixturevalue("agent"),
            {"title": "Drain the switch", "change": self._change(request)},
        )
