from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from catalogue.models import Service
from cmdb.models import ConfigurationItem
from incidents.models import Incident
from itsm.accounts.models import Team
from itsm.api.serializers import (
    AllowedStatesField,
    CleanedModelSerializer,
    ModelSerializer,
    UsernameField,
)
from problems.models import Problem

from .. import services
from ..models import (
    Change,
    ChangeModel,
    ChangeTask,
    ChangeTemplate,
    TemplateTask,
)


class ChangeSerializer(ModelSerializer):
    model = serializers.PrimaryKeyRelatedField(queryset=ChangeModel.objects.all())
    template = serializers.PrimaryKeyRelatedField(
        queryset=ChangeTemplate.objects.filter(status=ChangeTemplate.Status.ACTIVE),
        required=False,
        allow_null=True,
        help_text=_(
            "On create: a standard change from this template (its fields are the "
            "defaults, its tasks are opened)."
        ),
    )
    requested_by = UsernameField(required=False)
    opened_by = UsernameField(read_only=True)
    assigned_to = UsernameField(required=False, allow_null=True)
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    services = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), many=True, required=False
    )
    configuration_items = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )
    caused_incidents = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Incident.objects.all(),
        many=True,
        required=False,
        help_text=_("Incidents this change caused, by number (the whole list: PATCH replaces it)."),
        error_messages={"does_not_exist": _("There is no incident {value}.")},
    )
    resolves_problems = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Problem.objects.all(),
        many=True,
        required=False,
        help_text=_("Problems this change resolves, by number."),
        error_messages={"does_not_exist": _("There is no problem {value}.")},
    )
    follow_up_problem = serializers.SlugRelatedField(slug_field="number", read_only=True)
    allowed_states = AllowedStatesField(help_text=_("The states you may move this change to now."))
    effective_risk = serializers.CharField(
        read_only=True, help_text=_("The override if there is one, else the calculated risk.")
    )

    class Meta:
        model = Change
        fields = [
            "number",
            "title",
            "description",
            "justification",
            "state",
            "allowed_states",
            "model",
            "template",
            "category",
            "services",
            "configuration_items",
            "requested_by",
            "opened_by",
            "assignment_group",
            "assigned_to",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "outage_expected",
            "cab_date",
            "risk",
            "impact",
            "probability",
            "risk_score",
            "risk_reasons",
            "risk_calculated_at",
            "risk_override",
            "risk_override_reason",
            "effective_risk",
            "approval_state",
            "approval_level",
            "on_hold",
            "hold_reason",
            "closure_code",
            "closure_notes",
            "caused_incidents",
            "resolves_problems",
            "follow_up_problem",
            "created_at",
            "updated_at",
            "closed_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "risk",
            "impact",
            "probability",
            "risk_score",
            "risk_reasons",
            "risk_calculated_at",
            "approval_state",
            "approval_level",
            "on_hold",
            "hold_reason",
            "created_at",
            "updated_at",
            "closed_at",
            "version",
        ]

    def validate(self, attrs):
        errors = {}
        for name in self.Meta.read_only_fields:
            if name in self.initial_data and name not in ("version",):
                errors[name] = _("Set by the platform.")
        if self.instance is None and "state" in self.initial_data:
            errors["state"] = _("A new change starts in state new.")
        if self.instance is not None and "template" in self.initial_data:
            errors["template"] = _("A template is chosen when the change is raised.")
        if self.instance is None and not attrs.get("template") and not attrs.get("model"):
            errors["model"] = _("Choose a change model (or a standard change template).")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is None or isinstance(self.instance, list):
            fields["model"].required = False
        return fields

    def create(self, validated_data):
        template = validated_data.pop("template", None)
        return services.open_change(self.context["request"].user, validated_data, template)

    def update(self, instance, validated_data):
        expected_version = validated_data.pop("expected_version", None)
        return services.update_change(
            instance, self.context["request"].user, validated_data, expected_version
        )


class ChangeTaskSerializer(ModelSerializer):
    change = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Change.objects.all(),
        help_text=_("The change's number."),
        error_messages={"does_not_exist": _("There is no change {value}.")},
    )
    assigned_to = UsernameField(required=False, allow_null=True)
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    allowed_states = AllowedStatesField(help_text=_("The states you may move this task to now."))

    class Meta:
        model = ChangeTask
        fields = [
            "number",
            "change",
            "title",
            "description",
            "state",
            "allowed_states",
            "stage",
            "assignment_group",
            "assigned_to",
            "planned_start",
            "planned_end",
            "close_notes",
            "created_at",
            "updated_at",
            "closed_at",
            "version",
        ]
        read_only_fields = ["number", "created_at", "updated_at", "closed_at", "version"]

    def validate(self, attrs):
        errors = {}
        if self.instance is None and "state" in self.initial_data:
            errors["state"] = _("A new task starts open.")
        if self.instance is not None and "change" in self.initial_data:
            errors["change"] = _("A task stays with its change.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        return services.open_task(self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        expected_version = validated_data.pop("expected_version", None)
        return services.update_task(
            instance, self.context["request"].user, validated_data, expected_version
        )


class ChangeModelSerializer(CleanedModelSerializer):
    path = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ChangeModel
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "states",
            "path",
            "required_fields",
            "approval_policy",
            "questionnaire",
            "lead_time_hours",
            "active",
        ]
        read_only_fields = ["id", "path"]


class TemplateTaskSerializer(ModelSerializer):
    class Meta:
        model = TemplateTask
        fields = ["id", "stage", "title", "team"]
        read_only_fields = ["id"]


class ChangeTemplateSerializer(CleanedModelSerializer):
    tasks = TemplateTaskSerializer(
        many=True,
        required=False,
        help_text=_(
            "The tasks a change from this template opens (the whole list: PATCH "
            "replaces it); stages run in sequence, a stage's tasks in parallel."
        ),
    )
    proposed_by = UsernameField(read_only=True)
    reviewed_by = UsernameField(read_only=True)
    failed_changes = serializers.IntegerField(
        read_only=True, help_text=_("Changes from it that failed or were backed out.")
    )

    class Meta:
        model = ChangeTemplate
        fields = [
            "id",
            "name",
            "description",
            "status",
            "model",
            "category",
            "assignment_group",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "duration_minutes",
            "outage_expected",
            "tasks",
            "proposed_by",
            "reviewed_by",
            "reviewed_at",
            "review_notes",
            "failed_changes",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "proposed_by",
            "reviewed_by",
            "reviewed_at",
            "failed_changes",
            "created_at",
        ]


class TemplateReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)
