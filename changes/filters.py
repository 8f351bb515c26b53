import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core.filters import DateTimeFilter, IdFilter, RecordFilterSet
from itsm.core.widgets import ASSIGNMENT_FILTERS, use_pickers

from .models import ApprovalState, Change, ChangeCategory, ChangeKind, ChangeTask, RiskLevel
from .workflows import ChangeState, TaskState


class ChangeFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ChangeState.choices, distinct=False)
    model = IdFilter(field_name="model_id")
    kind = django_filters.ChoiceFilter(
        field_name="model__kind", choices=ChangeKind.choices, label=_("Model kind")
    )
    category = django_filters.ChoiceFilter(choices=ChangeCategory.choices)
    risk = django_filters.MultipleChoiceFilter(choices=RiskLevel.choices, distinct=False)
    approval_state = django_filters.ChoiceFilter(choices=ApprovalState.choices)
    service = IdFilter(field_name="services", distinct=False)
    configuration_item = IdFilter(field_name="configuration_items", distinct=False)
    template = IdFilter(field_name="template_id")
    planned_from = DateTimeFilter(
        field_name="planned_end", lookup_expr="gte", label=_("Planned to end after")
    )
    planned_to = DateTimeFilter(
        field_name="planned_start", lookup_expr="lte", label=_("Planned to start before")
    )
    scheduled_this_week = django_filters.BooleanFilter(
        method="filter_this_week", label=_("Planned this week")
    )
    has_conflicts = django_filters.BooleanFilter(method="filter_conflicts", label=_("Conflicts"))
    awaiting_my_approval = django_filters.BooleanFilter(
        method="filter_my_approval", label=_("Awaiting my approval")
    )
    on_hold = django_filters.BooleanFilter()
    closure_code = django_filters.CharFilter()

    class Meta:
        model = Change
        fields = ["state", "assignment_group", "assigned_to", "on_hold"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
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

    def filter_this_week(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.localtime()
        start = (now - timezone.timedelta(days=now.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        end = start + timezone.timedelta(days=7)
        week = Q(planned_start__lt=end, planned_end__gt=start)
        return queryset.filter(week) if value else queryset.exclude(week)

    def filter_conflicts(self, queryset, name, value):
        if value is None:
            return queryset
        has = Q(conflicts__isnull=False)
        return (
            queryset.filter(has).distinct()
            if value
            else queryset.exclude(pk__in=Change.objects.filter(has).values("pk"))
        )

    def filter_my_approval(self, queryset, name, value):
        if value is None:
            return queryset
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return queryset.none()
        mine = Change.objects.filter(
            approvals__approver=user, approvals__decision="pending"
        ).values("pk")
        return queryset.filter(pk__in=mine) if value else queryset.exclude(pk__in=mine)


class ChangeTaskFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=TaskState.choices, distinct=False)
    change = django_filters.CharFilter(
        field_name="change__number", help_text=_("The change's number.")
    )
    stage = django_filters.NumberFilter()

    class Meta:
        model = ChangeTask
        fields = ["state", "assignment_group", "assigned_to", "stage"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_pickers(self, **ASSIGNMENT_FILTERS)


#: Columns the queues and the API sort by (non-null fields, for keyset pagination).
ORDERING_FIELDS = ["number", "created_at", "updated_at", "state"]
TASK_ORDERING_FIELDS = ["number", "created_at", "updated_at", "state", "stage"]

SAVED_VIEWS = {
    "my_open": (_("My open"), {"assigned_to": "me", "open": "true"}),
    "team_open": (_("My teams' open"), {"assignment_group": "mine", "open": "true"}),
    "awaiting_my_approval": (_("Awaiting my approval"), {"awaiting_my_approval": "true"}),
    "scheduled_this_week": (
        _("Scheduled this week"),
        {"scheduled_this_week": "true", "state": ["scheduled", "implement"]},
    ),
    "conflicts": (_("Conflicts"), {"has_conflicts": "true", "open": "true"}),
    "all_open": (_("All open"), {"open": "true"}),
}
TASK_SAVED_VIEWS = {
    "my_open": (_("My open"), {"assigned_to": "me", "open": "true"}),
    "team_open": (_("My teams' open"), {"assignment_group": "mine", "open": "true"}),
    "all_open": (_("All open"), {"open": "true"}),
}
