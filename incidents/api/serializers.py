from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from catalogue.models import Service
from cmdb.models import ConfigurationItem
from incidents import services
from incidents.models import Category, Channel, Incident
from itsm.accounts.models import Team
from itsm.api.serializers import AllowedStatesField, ModelSerializer, UsernameField
from practices.service_level.api.serializers import TimerSummarySerializer


class IncidentSerializer(ModelSerializer):
    caller = UsernameField(
        required=False, help_text=_("Username; end users are always the caller.")
    )
    opened_by = UsernameField(read_only=True)
    assigned_to = UsernameField(required=False, allow_null=True)
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(active=True), required=False, allow_null=True
    )
    subcategory = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(active=True), required=False, allow_null=True
    )
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, allow_null=True
    )
    configuration_items = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )
    parent = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Incident.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": _("There is no incident {value}.")},
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    allowed_states = AllowedStatesField(
        help_text=_("The states you may move this incident to now.")
    )
    sla = TimerSummarySerializer(
        source="sla_timers", many=True, read_only=True, help_text=_("Its SLA, OLA and UC timers.")
    )

    class Meta:
        model = Incident
        fields = [
            "number",
            "title",
            "description",
            "state",
            "allowed_states",
            "sla",
            "caller",
            "opened_by",
            "category",
            "subcategory",
            "service",
            "configuration_items",
            "impact",
            "urgency",
            "priority",
            "assignment_group",
            "assigned_to",
            "channel",
            "on_hold_reason",
            "resolution_code",
            "resolution_notes",
            "major",
            "parent",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "reassignment_count",
            "reopen_count",
            "version",
        ]
        read_only_fields = [
            "number",
            "priority",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "reassignment_count",
            "reopen_count",
            "version",
        ]

    def validate(self, attrs):
        errors = {}
        for name in ("priority", "number"):
            if name in self.initial_data:
                errors[name] = (
                    gettext("Priority follows from impact and urgency.")
                    if name == "priority"
                    else gettext("The number is given by the platform.")
                )
        if self.instance is None and "state" in self.initial_data:
            errors["state"] = gettext("A new incident starts in state new.")
        if self.instance is not None and "channel" in self.initial_data:
            errors["channel"] = gettext("The channel is set when the incident is logged.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        user = self.context["request"].user
        channel = validated_data.pop("channel", Channel.API)
        if not user.is_agent:
            channel = Channel.API  # only integrations and agents say where a report came from
        # The screens say which of them the incident was logged on (workspace or portal).
        channel = self.context.get("channel") or channel
        # The portal's report sends its files along (see PortalIncidentScreens).
        files = self.context.get("files", ())
        return services.open_incident(user, validated_data, channel=channel, files=files)

    def update(self, instance, validated_data):
        expected_version = validated_data.pop("expected_version", None)
        user = self.context["request"].user
        return services.update_incident(instance, user, validated_data, expected_version)


class CategorySerializer(ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "parent", "active"]
