import django_filters

from itsm.core.filters import RecordFilterSet, UserFilter

from .models import Incident, Priority
from .workflows import IncidentState


class IncidentFilterSet(RecordFilterSet):
    # distinct=False: one row per incident already; DISTINCT would defeat the queue index.
    state = django_filters.MultipleChoiceFilter(choices=IncidentState.choices, distinct=False)
    open = django_filters.BooleanFilter(method="filter_open", label="Open")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    caller = UserFilter()
    service = django_filters.NumberFilter(field_name="service_id")
    configuration_item = django_filters.NumberFilter(field_name="configuration_items")
    major = django_filters.BooleanFilter()
    channel = django_filters.CharFilter()
    parent = django_filters.CharFilter(field_name="parent__number")

    class Meta:
        model = Incident
        fields = [
            "state",
            "priority",
            "assignment_group",
            "assigned_to",
            "caller",
            "service",
            "major",
        ]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(state__in=IncidentState.OPEN)
        return queryset.exclude(state__in=IncidentState.OPEN)


#: Columns the queue and the API sort by (non-null fields, for keyset pagination).
ORDERING_FIELDS = ["number", "priority", "created_at", "updated_at", "state", "impact", "urgency"]

#: The saved views every agent has in the queue.
SAVED_VIEWS = {
    "my_open": ("My open", {"assigned_to": "me", "open": "true"}),
    "unassigned_in_my_teams": (
        "Unassigned in my teams",
        {"assignment_group": "mine", "unassigned": "true", "open": "true"},
    ),
    "major": ("Major incidents", {"major": "true", "open": "true"}),
    "all_open": ("All open", {"open": "true"}),
}
