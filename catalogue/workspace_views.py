"""The agent workspace of service request management: the fulfilment task queue, the task
page where a team works a task, and a read-only request page. Every write goes through
``catalogue.services``."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from itsm.accounts.decorators import agent_required
from itsm.accounts.models import STAFF_ROLES, Team, User
from itsm.core import services as core
from itsm.core.pagination import paginate
from itsm.core.services import StaleVersion
from itsm.core.views import add_errors, is_htmx, posted_version, query_without

from . import services, variables
from .filters import ORDERING_FIELDS, SAVED_VIEWS, FulfilmentTaskFilterSet
from .models import FulfilmentTask, ServiceRequest
from .workflows import TaskState

QUEUE_PAGE_SIZE = 50


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


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea, max_length=20000)
    internal = forms.BooleanField(required=False)


class StateForm(forms.Form):
    state = forms.ChoiceField(choices=TaskState.choices)


# Helpers ----------------------------------------------------------------------------------


def _tasks(user):
    return FulfilmentTask.objects.visible_to(user).select_related(
        "request", "request__requested_for", "assignment_group", "assigned_to"
    )


def _get_task(user, number) -> FulfilmentTask:
    return get_object_or_404(
        _tasks(user).select_related("request__item", "request__requester"), number=number
    )


def _requests(user):
    return ServiceRequest.objects.visible_to(user).select_related(
        "item", "requester", "requested_for", "assignment_group", "assigned_to"
    )


# Queue ------------------------------------------------------------------------------------


@agent_required
def queue(request):
    params = request.GET.copy()
    view_key = params.get("view", "")
    if view_key in SAVED_VIEWS:
        preset = QueryDict(mutable=True)
        preset.update(SAVED_VIEWS[view_key][1])
        for key in ("ordering", "cursor", "search"):
            if key in params:
                preset[key] = params[key]
        params = preset
    filterset = FulfilmentTaskFilterSet(params, queryset=_tasks(request.user), request=request)
    ordering = params.get("ordering") or "-created_at"
    if ordering.lstrip("-") not in ORDERING_FIELDS:
        ordering = "-created_at"
    if filterset.is_valid():
        queryset = filterset.qs.order_by(ordering)
    else:
        queryset = FulfilmentTask.objects.none()
    try:
        rows, next_cursor = paginate(queryset, params.get("cursor"), QUEUE_PAGE_SIZE)
    except ValidationError:
        rows, next_cursor = paginate(queryset, None, QUEUE_PAGE_SIZE)
    next_params = params.copy()
    next_params["cursor"] = next_cursor or ""
    if view_key in SAVED_VIEWS:
        next_params = QueryDict(mutable=True)
        next_params.update({"view": view_key, "ordering": ordering, "cursor": next_cursor or ""})
        if params.get("search"):
            next_params["search"] = params["search"]
    context = {
        "filterset": filterset,
        "tasks": rows,
        "teams": Team.objects.order_by("name"),
        "next_query": next_params.urlencode() if next_cursor else "",
        "ordering": ordering,
        "saved_views": [(key, label) for key, (label, _) in SAVED_VIEWS.items()],
        "current_view": view_key,
        "query_without_ordering": query_without(params, "ordering", "cursor"),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "catalogue/workspace_queue_rows.html", context)
    if is_htmx(request):
        return render(request, "catalogue/workspace_queue_table.html", context)
    return render(request, "catalogue/workspace_queue.html", context)


# Task page --------------------------------------------------------------------------------


def _task_context(request, task, **extra):
    service_request = task.request
    context = {
        "task": task,
        "service_request": service_request,
        "answers": variables.display_answers(service_request),
        "tasks": service_request.tasks.select_related("assignment_group", "assigned_to").order_by(
            "stage", "pk"
        ),
        "timeline": core.timeline(task, request.user).reverse(),
        "transitions": task.workflow.available(task, request.user),
        "assignment_form": AssignmentForm(
            initial={
                "assignment_group": task.assignment_group_id,
                "assigned_to": task.assigned_to.username if task.assigned_to_id else None,
            }
        ),
        "comment_form": CommentForm(),
        "state_form": StateForm(),
    }
    context.update(extra)
    return context


@agent_required
def task_detail(request, number):
    task = _get_task(request.user, number)
    return render(request, "catalogue/workspace_task.html", _task_context(request, task))


def _update(request, number, form, form_name: str, data_of):
    """Apply a form through ``services.update_task``: 409 on a stale version, 400 on errors."""
    task = _get_task(request.user, number)
    if form.is_valid():
        try:
            services.update_task(task, request.user, data_of(form), posted_version(request))
        except StaleVersion:
            fresh = _get_task(request.user, number)
            context = _task_context(request, fresh, conflict=True, **{form_name: form})
            return render(request, "catalogue/workspace_task.html", context, status=409)
        except PermissionDenied:
            raise
        except ValidationError as error:
            add_errors(form, error)
        else:
            return None
    task = _get_task(request.user, number)
    context = _task_context(request, task, **{form_name: form})
    return render(request, "catalogue/workspace_task.html", context, status=400)


@agent_required
@require_POST
def task_assign(request, number):
    form = AssignmentForm(request.POST)
    response = _update(request, number, form, "assignment_form", AssignmentForm.values)
    if response is not None:
        return response
    messages.success(request, f"{number} saved.")
    return redirect("fulfilment:task", number=number)


@agent_required
@require_POST
def task_transition(request, number):
    form = StateForm(request.POST)
    response = _update(
        request, number, form, "state_form", lambda f: {"state": f.cleaned_data["state"]}
    )
    if response is not None:
        return response
    task = _get_task(request.user, number)
    messages.success(request, f"{task.number} is now {task.state_label.lower()}.")
    return redirect("fulfilment:task", number=number)


@agent_required
@require_POST
def task_comment(request, number):
    task = _get_task(request.user, number)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment(
                task, request.user, form.cleaned_data["body"], form.cleaned_data["internal"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            kind = "Work note added" if form.cleaned_data["internal"] else "Reply added"
            messages.success(request, f"{kind}.")
            return redirect("fulfilment:task", number=number)
    return render(
        request,
        "catalogue/workspace_task.html",
        _task_context(request, task, comment_form=form),
        status=400,
    )


# Request page -----------------------------------------------------------------------------


@agent_required
def request_detail(request, number):
    service_request = get_object_or_404(_requests(request.user), number=number)
    context = {
        "service_request": service_request,
        "answers": variables.display_answers(service_request),
        "approvals": service_request.approvals.select_related("approver").order_by("level", "pk"),
        "tasks": service_request.tasks.select_related("assignment_group", "assigned_to").order_by(
            "stage", "pk"
        ),
        "timeline": core.timeline(service_request, request.user).reverse(),
    }
    return render(request, "catalogue/workspace_request.html", context)
