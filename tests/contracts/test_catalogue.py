import pytest

from catalogue import services
from catalogue.models import (
    ApprovalLevel,
    FulfilmentTask,
    ServiceRequest,
    TaskTemplate,
)
from tests.factories import laptop_item

from .base import APIContract


@pytest.fixture
def approved_item(db, service_desk):
    """An item the service desk approves: its requests wait for approval (cancellable)."""
    item = laptop_item("New laptop")
    ApprovalLevel.objects.create(item=item, order=1, kind="team_any", team=service_desk)
    return item


@pytest.fixture
def fulfilled_item(db, service_desk):
    """An item without approval and one fulfilment task for the service desk."""
    item = laptop_item("Docking station")
    TaskTemplate.objects.create(item=item, stage=1, title="Hand it over", team=service_desk)
    return item


class TestServiceRequestContract(APIContract):
    model = ServiceRequest
    transition = {"state": "cancelled"}
    illegal_state = "fulfilled"
    list_screen = "/fulfilment/requests/"
    page_screen = True
    endpoint = "/api/v1/requests/"
    lookup = "number"
    bad_field = ("item", 999999)
    # After ordering only the state changes (cancel, or close once fulfilled): a state
    # change is journaled as a "state" entry, not as a "fields" one.
    patch_data = {"state": "cancelled"}
    patch_journal_field = None

    def create_data(self, request):
        return {"item": request.getfixturevalue("approved_item").pk, "variables": {"model": "mac"}}

    def make(self, request):
        # Alice's request: staff and alice see it, bob (same organization) does not.
        return services.submit_request(
            request.getfixturevalue("alice"),
            request.getfixturevalue("approved_item"),
            {"model": "thinkpad"},
        )


class TestFulfilmentTaskContract(APIContract):
    model = FulfilmentTask
    transition = {"state": "in_progress"}
    illegal_state = "new"
    list_screen = "/fulfilment/"
    page_screen = True
    endpoint = "/api/v1/tasks/"
    lookup = "number"
    # Tasks are made by the platform as a request reaches a fulfilment stage; the
    # collection takes no POST (http_method_names: get, patch).
    create_data = None
    bad_field = None
    patch_data = {"description": "Bring the docking station to the 3rd floor."}
    patch_journal_field = "description"

    def make(self, request):
        ordered = services.submit_request(
            request.getfixturevalue("alice"),
            request.getfixturevalue("fulfilled_item"),
            {"model": "mac"},
        )
        return ordered.tasks.get()

    # The outsider is the default: bob, an end user (tasks are staff work; even the
    # requester does not see them).
