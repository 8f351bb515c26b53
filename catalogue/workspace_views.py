"""The agent workspace of service request management: the fulfilment task queue, the task
page where a team works a task, and a read-only request page. Every write goes through
``catalogue.services``."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.decorators import action

from itsm.accounts.models import STAFF_ROLES, Team, User
from itsm.api.screens import Column, RecordScreens
from itsm.core.services import StaleVersion
from itsm.core.views import add_errors

from . import services, variables
from .api.serializers import FulfilmentTaskSerializer
from .filters import ORDERING_FIELDS, SAVED_VIEWS, FulfilmentTaskFilterSet
from .models import FulfilmentTask, ServiceRequest

# Forms ------------------------------------------------------------------------------------


class AssignmentForm(forms.Form):
    assignment_group = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), label="Assignment group"
    )
    assigned_to = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, role__in=STAFF_ROLES).order_by("username"),
        required=False,
        label="Assigned to",
        to_field_name="username",
    )

    def values(self) -> dict:
        return {
            "assignment_group": self.cleaned_data["assignment_group"],
            "assigned_to": self.cleaned_data["assigned_to"],
        }


# Helpers ----------------------------------------------------------------------------------


def _tasks(user):
    return FulfilmentTask.objects.visible_to(user).select_related(
        "request", "request__requested_for", "assignment_group", "assigned_to"
    )


# Queue ------------------------------------------------------------------------------------


# Task page --------------------------------------------------------------------------------


class TaskScreens(RecordScreens):
    """The fulfilment task's page where a team works it (the kernel's record screens) and
    its assignment form."""

    queryset = FulfilmentTask.objects.select_related(
        "request",
        "request__requested_for",
        "request__item",
        "request__requester",
        "assignment_group",
        "assigned_to",
    )
    serializer_class = FulfilmentTaskSerializer
    record_services = services
    page_template = "catalogue/workspace_task.html"
    context_object_name = "task"
    comment_messages = ("Reply added.", "Work note added.")
    attach = link = unlink = edit = None  # a task's files and links are its request's
    filterset_class = FulfilmentTaskFilterSet
    ordering_fields = ORDERING_FIELDS
    list_template = "catalogue/workspace_queue.html"
    rows_template = "catalogue/workspace_queue_rows.html"
    rows_name = "tasks"
    empty_text = "No tasks match."
    columns = (
        Column("Number", "number"),
        Column("Title"),
        Column("Request"),
        Column("Requested for"),
        Column("Stage", "stage"),
        Column("State", "state"),
        Column("Group"),
        Column("Assignee"),
        Column("Opened", "created_at"),
        Column("Updated", "updated_at"),
    )

    saved_views = SAVED_VIEWS

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context["teams"] = Team.objects.order_by("name")
        return context

    def page_context(self, record, **extra):
        service_request = record.request
        extra.setdefault(
            "assignment_form",
            AssignmentForm(
                initial={
                    "assignment_group": record.assignment_group_id,
                    "assigned_to": record.assigned_to.username if record.assigned_to_id else None,
                }
            ),
        )
        extra.setdefault("state_form", extra.get("transition_form"))
        return super().page_context(
            record,
            service_request=service_request,
            answers=variables.display_answers(service_request),
            tasks=service_request.tasks.select_related("assignment_group", "assigned_to").order_by(
                "stage", "pk"
            ),
            **extra,
        )

    @action(detail=True, methods=["post"])
    def assign(self, request, number=None):
        task = self.get_object()
        form = AssignmentForm(request.data)
        if form.is_valid():
            try:
                with transaction.atomic():
                    services.update_task(task, request.user, form.values(), self.version())
            except StaleVersion as stale:
                return self.page(stale.record, 409, conflict=True, assignment_form=form)
            except ValidationError as error:
                add_errors(form, error)
            else:
                return self.done(task, f"{task.number} saved.")
        return self.page(self.reread(task), 400, assignment_form=form)


# Request page -----------------------------------------------------------------------------


class RequestWorkspaceScreens(RecordScreens):
    """A service request seen from the workspace: what was ordered, its approvals, its
    tasks and its timeline (the work itself is done on the tasks)."""

    queryset = ServiceRequest.objects.select_related(
        "item", "requester", "requested_for", "assignment_group", "assigned_to"
    )
    page_template = "catalogue/workspace_request.html"
    context_object_name = "service_request"
    comment = attach = transition = link = unlink = edit = None

    def page_context(self, record, **extra):
        return super().page_context(
            record,
            answers=variables.display_answers(record),
            approvals=record.approvals.select_related("approver").order_by("level", "pk"),
            tasks=record.tasks.select_related("assignment_group", "assigned_to").order_by(
                "stage", "pk"
            ),
            **extra,
        )
