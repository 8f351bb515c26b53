import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core.filters import IdFilter, RecordFilterSet, UserFilter
from itsm.core.widgets import ASSIGNMENT_FILTERS, use_pickers
from practices.service_level.models import Timer
from practices.service_level.queries import BREACHING_SOON

from .models import Incident, Priority
from .workflows import IncidentState

#: How far ahead "breaching soon" looks.
SLA_BREACHING_SOON = BREACHING_SOON


class IncidentFilterSet(RecordFilterSet):
    # distinct=False: one row per incident already; DISTINCT would defeat the queue index.
    state = django_filters.MultipleChoiceFilter(choices=IncidentState.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    caller = UserFilter()
    service = IdFilter(field_name="service_id")
    configuration_item = IdFilter(field_name="configuration_items")
    major = django_filters.BooleanFilter()
    channel = django_filters.CharFilter()
    parent = django_filters.CharFilter(field_name="parent__number")
    sla = django_filters.ChoiceFilter(
        choices=[
            ("breaching_soon", _("Breaching soon (a target due within the hour)")),
            ("breached", _("Breached (a target missed)")),
        ],
        method="filter_sla",
        label=_("SLA"),
    )

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The queue's group and assignee filters are team and person pickers.
        use_pickers(self, **ASSIGNMENT_FILTERS)

    def filter_sla(self, queryset, name, value):
        """``breaching_soon``: a running timer due within the next hour (or already past due
        and not yet swept); ``breached``: any timer that missed its target."""
        now = timezone.now()
        timers = Timer.objects.filter(
            content_type=ContentType.objects.get_for_model(Incident), object_id=OuterRef("pk")
        )
        if value == "breaching_soon":
            timers = timers.filter(state=Timer.State.RUNNING, due_at__lte=now + SLA_BREACHING_SOON)
        elif value == "breached":
            timers = timers.filter(
                Q(breached=True) | Q(state=Timer.State.RUNNING, due_at__lte=now)
            ).exclude(state=Timer.State.CANCELLED)
        else:
            return queryset
        return queryset.filter(Exists(timers))


#: Columns the queue and the API sort by (non-null fields, for keyset pagination).
ORDERING_FIELDS = ["number", "priority", "created_at", "updated_at", "state", "impact", "urgency"]

#: The saved views every agent has in the queue.
SAVED_VIEWS = {
    "my_open": (_("My open"), {"assigned_to": "me", "open": "true"}),
    "unassigned_in_my_teams": (
        _("Unassigned in my teams"),
        {"assignment_group": "mine", "unassigned": "true", "open": "true"},
    ),
    "major": (_("Major incidents"), {"major": "true", "open": "true"}),
    # the queue's default: what still needs work, the most urgent first
    "all_open": (_("All open"), {"open": "true", "ordering": "priority"}),
    "breaching_soon": (_("Breaching soon"), {"sla": "breaching_soon", "open": "true"}),
}
