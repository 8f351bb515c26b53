"""The agent workspace of service request management: the fulfilment task queue, the task
page where a team works a task, the service request list and page, and the approver's
inbox. Every write goes through ``catalogue.services``."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.decorators import action

from itsm.accounts.models import STAFF_ROLES, Team, User
from itsm.api.screens import Column, RecordScreens, service_errors
from itsm.core.services import StaleVersion
from itsm.core.views import add_errors

from . import services, variables
from .api.serializers import FulfilmentTaskSerializer, ServiceRequestSerializer
from .filters import (
    ORDERING_FIELDS,
    REQUEST_ORDERING_FIELDS,
    REQUEST_SAVED_VIEWS,
    SAVED_VIEWS,
    FulfilmentTaskFilterSet,
    ServiceRequestFilterSet,
)
from .forms import DecisionForm
from .models import Approval, FulfilmentTask, ServiceRequest

# Forms ------------------------------------------------------------------------------------


class AssignmentForm(forms.Form):
    assignment_group = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), label=_("Assignment group")
    )
    assigned_to = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, role__in=STAFF_ROLES).order_by("username"),
        required=False,
        label=_("Assigned to"),
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


class AssignToMe:
    """ "Assign to me" on a record page: one click, parsed by the type's API serializer as
    a ``PATCH`` of ``assigned_to`` with the version the page was read at (the services
    refuse an agent outside the task's group, naming why)."""

    @action(detail=True, methods=["post"], url_path="assign-to-me", url_name="assign-to-me")
    def assign_to_me(self, request, number=None):
        record = self.get_object()
        serializer = self.get_serializer(
            record, data={"assigned_to": request.user.username}, partial=True
        )
        try:
            if not serializer.is_valid():
                raise ValidationError(serializer.errors)
            with transaction.atomic():
                serializer.save(expected_version=self.version())
        except StaleVersion as stale:
            return self.page(stale.record, 409, conflict=True)
        except ValidationError as error:
            problems = " ".join(str(m) for ms in service_errors(error).values() for m in ms)
            return self.page(
                self.reread(record),
                400,
                take_error=gettext("Not assigned to you: %(problems)s") % {"problems": problems},
            )
        return self.done(
            record, gettext("%(number)s is assigned to you.") % {"number": record.number}
        )


def can_take(record, user) -> bool:
    """Whether "Assign to me" is offered: not yet the assignee and, where the record has
    a group, one of its members."""
    teams = user.team_ids  # read whatever the record (one query, the same on every page)
    if record.assigned_to_id == user.pk:
        return False
    return not record.assignment_group_id or record.assignment_group_id in teams


# Task page --------------------------------------------------------------------------------


class TaskScreens(AssignToMe, RecordScreens):
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
    comment_messages = (_("Reply added."), _("Work note added."))
    attach = link = unlink = edit = None  # a task's files and links are its request's
    filterset_class = FulfilmentTaskFilterSet
    ordering_fields = ORDERING_FIELDS
    list_template = "catalogue/workspace_queue.html"
    rows_template = "catalogue/workspace_queue_rows.html"
    rows_name = "tasks"
    empty_text = _("No tasks match.")
    columns = (
        Column(_("Number"), "number"),
        Column(_("Title")),
        Column(_("Request")),
        Column(_("Requested for")),
        Column(_("Stage"), "stage"),
        Column(_("State"), "state"),
        Column(_("Group")),
        Column(_("Assignee")),
        Column(_("Opened"), "created_at"),
        Column(_("Updated"), "updated_at"),
    )

    saved_views = SAVED_VIEWS
    default_view = "all_open"

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
            can_take=can_take(record, self.request.user),
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
                return self.done(task, gettext("%(number)s saved.") % {"number": task.number})
        return self.page(self.reread(task), 400, assignment_form=form)


# Request page -----------------------------------------------------------------------------


class RequestWorkspaceScreens(AssignToMe, RecordScreens):
    """Service requests in the workspace: the agents' list (filters, saved views, keyset
    paging) and a request's page: what was ordered, its approvals, its tasks, its service
    levels and its timeline (the work itself is done on the tasks)."""

    queryset = ServiceRequest.objects.select_related(
        "item", "requester", "requested_for", "assignment_group", "assigned_to"
    )
    serializer_class = ServiceRequestSerializer
    record_services = services
    page_template = "catalogue/workspace_request.html"
    context_object_name = "service_request"
    comment = attach = transition = link = unlink = edit = None

    filterset_class = ServiceRequestFilterSet
    ordering_fields = REQUEST_ORDERING_FIELDS
    list_template = "catalogue/workspace_requests.html"
    rows_template = "catalogue/workspace_requests_rows.html"
    rows_name = "service_requests"
    empty_text = _("No service requests match.")
    columns = (
        Column(_("Number"), "number"),
        Column(_("Item")),
        Column(_("Requested for")),
        Column(_("State"), "state"),
        Column(_("Assignee")),
        Column(_("Submitted"), "created_at"),
        Column(_("Updated"), "updated_at"),
    )
    saved_views = REQUEST_SAVED_VIEWS
    default_view = "open"

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context["teams"] = Team.objects.order_by("name")
        return context

    def page_context(self, record, **extra):
        return super().page_context(
            record,
            can_take=can_take(record, self.request.user),
            answers=variables.display_answers(record),
            approvals=record.approvals.select_related("approver").order_by("level", "pk"),
            tasks=record.tasks.select_related("assignment_group", "assigned_to").order_by(
                "stage", "pk"
            ),
            **extra,
        )


# Approvals ---------------------------------------------------------------------------------


def _inbox(request, status=200, forms_by_pk=None, problem=""):
    approvals = services.approval_inbox(request.user)
    forms_by_pk = forms_by_pk or {}
    for approval in approvals:
        approval.form = forms_by_pk.get(approval.pk) or DecisionForm(prefix=f"a{approval.pk}")
    decided = (
        Approval.objects.filter(approver=request.user)
        .exclude(decision=Approval.Decision.PENDING)
        .select_related("request__item", "request__requested_for")
        .order_by("-decided_at", "-pk")[:20]
    )
    return render(
        request,
        "catalogue/workspace_approvals.html",
        {"approvals": approvals, "decided": decided, "problem": problem},
        status=status,
    )


@login_required
@require_GET
def approvals(request):
    """The approver's inbox: each request waiting for their decision, with its answers,
    cost and policy, to approve or reject in place."""
    if not request.user.is_agent:
        return redirect("catalogue:approvals")  # end users decide on the portal
    return _inbox(request)


@login_required
@require_POST
def decide(request, pk: int):
    """Approve or reject one approval (``catalogue.services.decide``, as the portal and the
    API do). Someone else's approval is a 404; one already decided (a second click, a
    stale page) is a 409 that says so and changes nothing."""
    if not request.user.is_agent:
        raise PermissionDenied
    approval = (
        Approval.objects.filter(approver=request.user, pk=pk).select_related("request").first()
    )
    if approval is None:
        raise Http404
    number = approval.request.number
    form = DecisionForm(request.POST, prefix=f"a{pk}")
    if not form.is_valid():
        return _inbox(request, 400, {pk: form})
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.decide(approval, request.user, approve, form.cleaned_data["comment"])
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        errors = service_errors(error)
        if "decision" in errors:  # decided already, or the request moved on meanwhile
            texts = " ".join(errors["decision"])
            if number not in texts:
                texts = f"{number}: {texts}"
            return _inbox(
                request,
                409,
                problem=gettext("%(problems)s Nothing was changed.") % {"problems": texts},
            )
        for key, texts in errors.items():
            for text in texts:
                form.add_error("comment" if key == "comment" else None, text)
        return _inbox(request, 400, {pk: form})
    if approve:
        messages.success(request, gettext("%(number)s approved.") % {"number": number})
    else:
        messages.success(request, gettext("%(number)s rejected.") % {"number": number})
    return redirect("fulfilment:approvals")


@login_required
@require_GET
def approvals_count(request):
    """The number beside "Approvals" in the workspace's navigation (fetched after the page
    loads, so that no page pays a query for it): empty when nothing waits."""
    count = services.pending_approvals(request.user).count() if request.user.is_agent else 0
    if not count:
        return HttpResponse("")
    return HttpResponse(
        format_html(
            '<span class="badge nav-count" title="{}">{}</span>',
            ngettext(
                "%(count)d waiting for your approval", "%(count)d waiting for your approval", count
            )
            % {"count": count},
            count,
        )
    )
