"""Filters of the fulfilment task queue and of the service request list (the agent
workspace's and the API's alike)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from itsm.core.filters import IdFilter, RecordFilterSet, UserFilter

from .models import FulfilmentTask, ServiceRequest
from .workflows import RequestState, TaskState


class FulfilmentTaskFilterSet(RecordFilterSet):
    # distinct=False: one row per task already.
    state = django_filters.MultipleChoiceFilter(choices=TaskState.choices, distinct=False)
    request = django_filters.CharFilter(field_name="request__number", label=_("Request"))
    stage = IdFilter()

    class Meta:
        model = FulfilmentTask
        fields = ["state", "assignment_group", "assigned_to", "stage"]

    def filter_text(self, queryset, name, value):
        """A task number, the number of its request, or words of the title."""
        value = value.strip()
        if not value:
            return queryset
        upper = value.upper()
        for prefix, field in (("TASK", "number"), ("REQ", "request__number")):
            if upper.startswith(prefix) and upper[len(prefix) :].isdigit():
                return queryset.filter(**{field: upper})
        return queryset.filter(Q(title__icontains=value))


#: Columns the queue sorts by (non-null fields, for keyset pagination).
ORDERING_FIELDS = ["number", "created_at", "updated_at", "state", "stage"]

#: The saved views every agent has in the task queue.
SAVED_VIEWS = {
    "my_open": (_("My open tasks"), {"assigned_to": "me", "open": "true"}),
    "unassigned_in_my_teams": (
        _("Unassigned in my teams"),
        {"assignment_group": "mine", "unassigned": "true", "open": "true"},
    ),
    "all_open": (_("All open"), {"open": "true"}),
}


class ServiceRequestFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=RequestState.choices, distinct=False)
    item = IdFilter(field_name="item_id")
    requested_for = UserFilter()
    requester = UserFilter()

    class Meta:
        model = ServiceRequest
        fields = ["state", "item", "requested_for", "requester"]

    def filter_text(self, queryset, name, value):
        """A request number, or words of the title (the item's name) or of the item."""
        value = value.strip()
        if not value:
            return queryset
        upper = value.upper()
        if upper.startswith("REQ") and upper[3:].isdigit():
            return queryset.filter(number=upper)
        return queryset.filter(Q(title__icontains=value) | Q(item__name__icontains=value))


#: Columns the request list sorts by (non-null fields, for keyset pagination).
REQUEST_ORDERING_FIELDS = ["number", "created_at", "updated_at", "state"]

#: The saved views every agent has in the service request list.
REQUEST_SAVED_VIEWS = {
    "open": (_("Open"), {"open": "true"}),
    "awaiting_approval": (_("Awaiting approval"), {"state": "awaiting_approval"}),
    "in_fulfilment": (_("In fulfilment"), {"state": "in_fulfilment"}),
    "mine": (_("Assigned to me"), {"assigned_to": "me", "open": "true"}),
}
