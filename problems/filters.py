import django_filters
from django.utils.translation import gettext_lazy as _

from itsm.core.filters import IdFilter, RecordFilterSet
from itsm.core.widgets import ASSIGNMENT_FILTERS, use_pickers

from .models import Priority, Problem, Risk
from .workflows import ProblemState


class ProblemFilterSet(RecordFilterSet):
    # distinct=False: one row per problem already (a single id on an M2M matches once).
    state = django_filters.MultipleChoiceFilter(choices=ProblemState.choices, distinct=False)
    known_error = django_filters.BooleanFilter(method="filter_known_error", label=_("Known error"))
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    impact = django_filters.ChoiceFilter(choices=Risk.choices)
    probability = django_filters.ChoiceFilter(choices=Risk.choices)
    service = IdFilter(field_name="services", distinct=False)
    configuration_item = IdFilter(field_name="configuration_items", distinct=False)
    incident = django_filters.CharFilter(
        field_name="incidents__number", distinct=False, help_text=_("An incident's number.")
    )
    category = IdFilter(field_name="category_id")
    workaround_public = django_filters.BooleanFilter()

    class Meta:
        model = Problem
        fields = ["state", "priority", "assignment_group", "assigned_to", "workaround_public"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Teams, people, services and CIs are picked by name (the known error database
        # filters on a service and a CI); the parameters stay ids and usernames.
        use_pickers(
            self,
            **ASSIGNMENT_FILTERS,
            service={"lookup": "services", "attrs": {"aria-label": _("Service")}},
            configuration_item={
                "lookup": "cis",
                "chosen_only": True,
                "attrs": {"aria-label": _("Configuration item")},
            },
        )

    def filter_known_error(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(state=ProblemState.KNOWN_ERROR)
        return queryset.exclude(state=ProblemState.KNOWN_ERROR)


#: Columns the queue and the API sort by (non-null fields, for keyset pagination).
ORDERING_FIELDS = ["number", "priority", "created_at", "updated_at", "state"]

#: Views every agent has in the problem queue.
SAVED_VIEWS = {
    "my_open": (_("My open"), {"assigned_to": "me", "open": "true"}),
    "team_open": (_("My teams' open"), {"assignment_group": "mine", "open": "true"}),
    "known_errors": (_("Known errors"), {"known_error": "true"}),
    "all_open": (_("All open"), {"open": "true", "ordering": "priority"}),
}
