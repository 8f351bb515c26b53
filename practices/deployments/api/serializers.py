from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalogue.models import Service
from changes.models import Change
from cmdb.models import ConfigurationItem, Environment
from itsm.accounts.models import Team
from itsm.api.serializers import AllowedStatesField, ModelSerializer, UsernameField
from practices.releases.models import Release

from .. import services
from ..models import Deployment, Strategy


class DeploymentSerializer(ModelSerializer):
    release = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Release.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("The release deployed, by number."),
        error_messages={"does_not_exist": _("There is no release {value}.")},
    )
    change = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Change.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("The change that authorises it, by number."),
        error_messages={"does_not_exist": _("There is no change {value}.")},
    )
    configuration_items = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )
    deployed_by = UsernameField(required=False, allow_null=True)
    assigned_to = UsernameField(required=False, allow_null=True)
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    service_account = serializers.CharField(
        source="service_account.user.username", read_only=True, default=None
    )
    allowed_states = AllowedStatesField(
        help_text=_("The statuses you may move this deployment to now.")
    )

    class Meta:
        model = Deployment
        fields = [
            "number",
            "title",
            "description",
            "state",
            "allowed_states",
            "release",
            "build",
            "environment",
            "strategy",
            "software_version",
            "configuration_items",
            "change",
            "started_at",
            "ended_at",
            "deployed_by",
            "service_account",
            "pipeline",
            "run",
            "commit",
            "artefact",
            "log_url",
            "tests_passed",
            "gate_decision",
            "gate_reasons",
            "gate_checked_at",
            "assignment_group",
            "assigned_to",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "gate_decision",
            "gate_reasons",
            "gate_checked_at",
            "created_at",
            "updated_at",
            "version",
        ]
        extra_kwargs = {"title": {"required": False, "allow_blank": True}}

    def validate(self, attrs):
        if self.instance is None and "state" in self.initial_data:
            raise serializers.ValidationError(
                {"state": gettext("A new deployment starts planned.")}
            )
        return attrs

    def create(self, validated_data):
        return services.open_deployment(self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        expected_version = validated_data.pop("expected_version", None)
        return services.update_deployment(
            instance, self.context["request"].user, validated_data, expected_version
        )


# The DevOps API: what a pipeline sends and is answered ---------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class NameOrIdField(serializers.Field):
    """A row by its id or its exact name (a pipeline knows names)."""

    def __init__(self, model, noun: str, **kwargs):
        self.model, self.noun = model, noun
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str) or str(data).strip() == "":
            raise serializers.ValidationError(
                gettext("A %(noun)s's id or name.") % {"noun": self.noun}
            )
        value = str(data).strip()
        query = Q(name=value)
        if value.isdigit() and len(value) < 19:
            query |= Q(pk=int(value))
        found = list(self.model.objects.filter(query)[:2])
        if not found:
            raise serializers.ValidationError(
                gettext("There is no %(noun)s %(value)s.") % {"noun": self.noun, "value": value}
            )
        if len(found) > 1:
            raise serializers.ValidationError(
                gettext("%(value)s names several; give the %(noun)s's id.")
                % {"value": value, "noun": self.noun}
            )
        return found[0]

    def to_representation(self, value):
        return value.name


class PipelineRequestSerializer(serializers.Serializer):
    """A pipeline's request to deploy (its service account's token)."""

    pipeline = serializers.CharField(
        max_length=200, help_text=_("The pipeline (e.g. gitlab:shop).")
    )
    run = serializers.CharField(max_length=100, help_text=_("The pipeline's run (its id)."))
    environment = serializers.ChoiceField(choices=Environment.choices)
    configuration_items = serializers.ListField(
        child=NameOrIdField(ConfigurationItem, "CI"),
        required=False,
        max_length=200,
        help_text=_("The CIs deployed to, by id or name."),
    )
    service = NameOrIdField(Service, "service", required=False, help_text=_("By id or name."))
    commit = serializers.CharField(max_length=100, required=False, allow_blank=True)
    artefact = serializers.CharField(max_length=500, required=False, allow_blank=True)
    version = serializers.CharField(
        max_length=100, required=False, allow_blank=True, source="software_version"
    )
    release = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Release.objects.all(),
        required=False,
        error_messages={"does_not_exist": _("There is no release {value}.")},
    )
    change = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Change.objects.select_related("model"),
        required=False,
        help_text=_("An existing change to link instead of opening one."),
        error_messages={"does_not_exist": _("There is no change {value}.")},
    )
    tests_passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    strategy = serializers.ChoiceField(choices=Strategy.choices, required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    backout_plan = serializers.CharField(max_length=10000, required=False, allow_blank=True)

    def validate_pipeline(self, value):
        return value.strip()

    def validate_run(self, value):
        return value.strip()


class PipelineAnswerSerializer(serializers.Serializer):
    number = serializers.CharField()
    change = serializers.CharField(allow_null=True)
    environment = serializers.CharField()
    pipeline = serializers.CharField()
    run = serializers.CharField()
    commit = serializers.CharField()
    version = serializers.CharField()
    gate_url = serializers.URLField()
    outcome_url = serializers.URLField()


class GateSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["allowed", "awaiting", "prevented"])
    reasons = serializers.ListField(child=serializers.CharField())


class OutcomeSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=["success", "failure"])
    log_url = serializers.URLField(max_length=1000, required=False, allow_blank=True)


class OutcomeAnswerSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    change = serializers.CharField(allow_null=True)
    change_state = serializers.CharField(allow_null=True)
    closure_code = serializers.CharField(allow_blank=True, allow_null=True)
