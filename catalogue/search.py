"""Service requests and fulfilment tasks in the kernel's search, found by their title
(and opened directly by number): staff find every one, end users the requests they
ordered or that are for them, never a task."""

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.search import CONTAINS, SearchSource

FIELDS = {"title": "A"}


def _requests(user):
    from .models import ServiceRequest

    return ServiceRequest.objects.visible_to(user).select_related("requested_for")


def _tasks(user):
    from .models import FulfilmentTask

    return FulfilmentTask.objects.visible_to(user).select_related("request")


def _request_url(request, user) -> str:
    if user.is_agent:
        return request.get_absolute_url()
    return reverse("catalogue:request", args=[request.number])


def _request_summary(request, user) -> str:
    person = request.requested_for
    return gettext("%(number)s · for %(person)s") % {
        "number": request.number,
        "person": person.get_full_name() or person.username,
    }


def _task_summary(task, user) -> str:
    return f"{task.number} · {task.request.number}"


def sources() -> list[SearchSource]:
    from .models import FulfilmentTask, ServiceRequest

    return [
        SearchSource(
            key="requests",
            label=_("Service requests"),
            singular=_("Request"),
            model=ServiceRequest,
            queryset=_requests,
            fields=FIELDS,
            url=_request_url,
            summary=_request_summary,
            match=CONTAINS,
            order=35,
        ),
        SearchSource(
            key="tasks",
            label=_("Fulfilment tasks"),
            singular=_("Task"),
            model=FulfilmentTask,
            queryset=_tasks,
            fields=FIELDS,
            url=lambda task, user: task.get_absolute_url(),
            summary=_task_summary,
            match=CONTAINS,
            order=36,
        ),
    ]
