import django_filters
from django.utils.translation import gettext_lazy as _

from itsm.core.filters import DateTimeFilter, IdFilter, RecordFilterSet
from itsm.core.widgets import ASSIGNMENT_FILTERS, use_pickers

from .models import Release, ReleaseType
from .workflows import ReleaseState


class ReleaseFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ReleaseState.choices, distinct=False)
    release_type = django_filters.ChoiceFilter(choices=ReleaseType.choices)
    release_version = django_filters.CharFilter()
    configuration_item = IdFilter(field_name="configuration_items", distinct=False)
    change = django_filters.CharFilter(
        field_name="changes__number", distinct=False, help_text=_("A change's number.")
    )
    planned_from = DateTimeFilter(
        field_name="planned_end", lookup_expr="gte", label=_("Planned to end after")
    )
    planned_to = DateTimeFilter(
        field_name="planned_start", lookup_expr="lte", label=_("Planned to start before")
    )

    class Meta:
        model = Release
        fields = ["state", "assignment_group", "assigned_to", "release_type"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_pickers(
            self,
            **ASSIGNMENT_FILTERS,
            configuration_item={
                "lookup": "cis",
                "chosen_only": True,
                "attrs": {"aria-label": _("Configuration item")},
            },
        )


#: Columns the list and the API sort by (non-null fields, for keyset pagination).
ORDERING_FIELDS = ["number", "created_at", "updated_at", "state", "release_version"]

SAVED_VIEWS = {
    "my_open": (_("My open"), {"assigned_to": "me", "open": "true"}),
    "team_open": (_("My teams' open"), {"assignment_group": "mine", "open": "true"}),
    "all_open": (_("All open"), {"open": "true"}),
}
