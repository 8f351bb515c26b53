import django_filters
from django.utils.translation import gettext_lazy as _

from cmdb.models import Environment
from itsm.core.filters import DateTimeFilter, IdFilter, RecordFilterSet
from itsm.core.widgets import ASSIGNMENT_FILTERS, use_pickers

from .models import Deployment, GateDecision, Strategy
from .workflows import DeploymentState


class DeploymentFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=DeploymentState.choices, distinct=False, label=_("Status")
    )
    environment = django_filters.MultipleChoiceFilter(choices=Environment.choices, distinct=False)
    strategy = django_filters.ChoiceFilter(choices=Strategy.choices)
    gate_decision = django_filters.ChoiceFilter(choices=GateDecision.choices)
    release = django_filters.CharFilter(
        field_name="release__number", help_text=_("A release's number.")
    )
    change = django_filters.CharFilter(
        field_name="change__number", help_text=_("A change's number.")
    )
    pipeline = django_filters.CharFilter()
    run = django_filters.CharFilter()
    configuration_item = IdFilter(field_name="configuration_items", distinct=False)
    started_after = DateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = DateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = Deployment
        fields = ["state", "assignment_group", "assigned_to", "environment"]

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


ORDERING_FIELDS = ["number", "created_at", "updated_at", "state", "environment"]

SAVED_VIEWS = {
    "open": (_("In flight"), {"open": "true"}),
    "production": (_("Production"), {"environment": ["production"]}),
    "failed": (_("Failed or rolled back"), {"state": ["failed", "rolled_back"]}),
    "all": (_("All"), {}),
}
