import django_filters
from django.utils.translation import gettext_lazy as _

from itsm.core.filters import DateTimeFilter, FilterSet, TeamFilter

from .models import Target, Timer


class TimerFilterSet(FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=Timer.State.choices, distinct=False)
    breached = django_filters.BooleanFilter()
    target = django_filters.ChoiceFilter(field_name="metric", choices=Target.Metric.choices)
    record_type = django_filters.CharFilter(
        field_name="content_type__model", help_text=_("e.g. incident")
    )
    record = django_filters.CharFilter(field_name="record_number")
    team = TeamFilter(field_name="team")
    due_before = DateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = DateTimeFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = Timer
        fields = ["state", "breached", "target", "record_type", "team"]
