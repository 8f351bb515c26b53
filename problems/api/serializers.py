from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalogue.models import Service
from cmdb.models import ConfigurationItem
from incidents.models import Category, Incident
from itsm.accounts.models import Team
from itsm.api.serializers import AllowedStatesField, ModelSerializer, Serializer, UsernameField
from problems import services
from problems.api import schema  # noqa: F401 (registers the OpenAPI extension)
from problems.models import Cause, Dimension, Effectiveness, Problem, Risk, WorkaroundUse


class RiskField(serializers.ChoiceField):
    """Impact or probability: high, medium or low (one inline enum for both)."""

    def __init__(self, **kwargs):
        super().__init__(choices=Risk.choices, **kwargs)


class CauseSerializer(ModelSerializer):
    created_by = UsernameField(read_only=True)
    dimension = serializers.ChoiceField(choices=Dimension.choices)

    class Meta:
        model = Cause
        fields = ["id", "dimension", "description", "is_root_cause", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]


class WorkaroundUseSerializer(ModelSerializer):
    problem = serializers.CharField(source="problem.number", read_only=True)
    incident = serializers.SlugRelatedField(
        slug_field="number", queryset=Incident.objects.all(), help_text=_("The incident's number.")
    )
    used_by = UsernameField(read_only=True)
    rated_by = UsernameField(read_only=True)

    class Meta:
        model = WorkaroundUse
        fields = [
            "id",
            "problem",
            "incident",
            "used_by",
            "used_at",
            "effectiveness",
            "rating_note",
            "rated_by",
            "rated_at",
        ]
        read_only_fields = ["id", "used_at", "effectiveness", "rating_note", "rated_at"]


class WorkaroundRatingSerializer(Serializer):
    effectiveness = serializers.ChoiceField(
        choices=Effectiveness.choices, help_text=_("1 (did not help) to 5 (fully restored).")
    )
    rating_note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ProblemSerializer(ModelSerializer):
    opened_by = UsernameField(read_only=True)
    assigned_to = UsernameField(required=False, allow_null=True)
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(active=True), required=False, allow_null=True
    )
    services = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), many=True, required=False
    )
    configuration_items = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )
    incidents = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Incident.objects.all(),
        many=True,
        required=False,
        help_text=_("Incident numbers (the whole list: PATCH replaces it)."),
        error_messages={"does_not_exist": _("There is no incident {value}.")},
    )
    impact = RiskField(required=False)
    probability = RiskField(required=False)
    causes = CauseSerializer(many=True, read_only=True)
    allowed_states = AllowedStatesField(help_text=_("The states you may move this problem to now."))
    resolve_incidents = serializers.BooleanField(
        write_only=True,
        required=False,
        help_text=_(
            "With state=resolved: resolve the linked open incidents with the "
            "resolution notes, all or none."
        ),
    )
    resolved_incidents = serializers.SerializerMethodField(
        help_text=_("Incidents this request resolved with the problem.")
    )

    class Meta:
        model = Problem
        fields = [
            "number",
            "title",
            "description",
            "state",
            "allowed_states",
            "category",
            "impact",
            "probability",
            "priority",
            "assignment_group",
            "assigned_to",
            "opened_by",
            "incidents",
            "services",
            "configuration_items",
            "causes",
            "workaround",
            "workaround_public",
            "resolution_notes",
            "resolve_incidents",
            "resolved_incidents",
            "created_at",
            "updated_at",
            "known_error_at",
            "resolved_at",
            "closed_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "priority",
            "created_at",
            "updated_at",
            "known_error_at",
            "resolved_at",
            "closed_at",
            "version",
        ]

    def get_resolved_incidents(self, problem) -> list[str]:
        return list(getattr(problem, "resolved_incidents", []))

    def validate(self, attrs):
        errors = {}
        for name, text in (
            ("priority", gettext("Priority follows from impact and probability.")),
            ("number", gettext("The number is given by the platform.")),
        ):
            if name in self.initial_data:
                errors[name] = text
        if self.instance is None and "state" in self.initial_data:
            errors["state"] = gettext("A new problem starts in state new.")
        if self.instance is None and "resolve_incidents" in self.initial_data:
            errors["resolve_incidents"] = gettext("Only when resolving a problem.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        return services.open_problem(self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        expected_version = validated_data.pop("expected_version", None)
        resolve = validated_data.pop("resolve_incidents", False)
        return services.update_problem(
            instance,
            self.context["request"].user,
            validated_data,
            expected_version,
            resolve_incidents=resolve,
        )


class KnownErrorSerializer(ModelSerializer):
    """A known error as staff read it."""

    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    configuration_items = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    assigned_to = UsernameField(read_only=True)
    impact = RiskField(read_only=True)
    probability = RiskField(read_only=True)

    class Meta:
        model = Problem
        fields = [
            "number",
            "title",
            "description",
            "workaround",
            "workaround_public",
            "priority",
            "impact",
            "probability",
            "assignment_group",
            "assigned_to",
            "services",
            "configuration_items",
            "known_error_at",
            "updated_at",
        ]
        read_only_fields = fields


class PublicKnownErrorSerializer(ModelSerializer):
    """A known error as an end user reads it: the title and the published workaround."""

    class Meta:
        model = Problem
        fields = ["number", "title", "workaround"]
        read_only_fields = fields


class TrendIncidentSerializer(Serializer):
    number = serializers.CharField()
    title = serializers.CharField()


class TrendGroupSerializer(Serializer):
    group_by = serializers.ChoiceField(
        source="dimension", choices=list(services.TREND_DIMENSIONS), help_text=_("What they share.")
    )
    key = serializers.IntegerField(help_text=_("The id of the CI, service or category."))
    label = serializers.CharField()
    count = serializers.IntegerField(help_text=_("Incidents in the window not yet in a problem."))
    incidents = serializers.SerializerMethodField()

    @extend_schema_field(TrendIncidentSerializer(many=True))
    def get_incidents(self, group):
        return [{"number": number, "title": title} for number, title in group.incidents]


class RaiseProblemSerializer(Serializer):
    group_by = serializers.ChoiceField(choices=list(services.TREND_DIMENSIONS))
    key = serializers.IntegerField()
    days = serializers.IntegerField(required=False, min_value=1, max_value=services.MAX_DAYS)
