"""Calendars and agreements over the API: staff read them, administrators change them."""

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.api.permissions import StaffReadAdministratorWrite
from itsm.api.serializers import ModelSerializer
from itsm.api.viewsets import TrackedViewSet
from practices.service_level import definitions
from practices.service_level.models import (
    Agreement,
    BusinessCalendar,
    ClosedDay,
    Target,
    Threshold,
    WorkingPeriod,
)


class WorkingPeriodSerializer(ModelSerializer):
    class Meta:
        model = WorkingPeriod
        fields = ["weekday", "start", "end"]


class ClosedDaySerializer(ModelSerializer):
    class Meta:
        model = ClosedDay
        fields = ["date", "name"]


class CalendarSerializer(ModelSerializer):
    working_periods = WorkingPeriodSerializer(many=True, required=False)
    closed_days = ClosedDaySerializer(many=True, required=False)

    class Meta:
        model = BusinessCalendar
        fields = [
            "id",
            "name",
            "time_zone",
            "always_open",
            "holiday_country",
            "holiday_subdivision",
            "working_periods",
            "closed_days",
            "version",
        ]
        read_only_fields = ["version"]

    def create(self, validated_data):
        return definitions.save_calendar(None, validated_data, self.context["request"].user)

    def update(self, instance, validated_data):
        expected = validated_data.pop("expected_version", None)
        user = self.context["request"].user
        return definitions.save_calendar(instance, validated_data, user, expected)


@extend_schema_field({"type": "string", "example": "incidents.incident"})
class RecordTypeField(serializers.Field):
    """A record type as ``app_label.model``, e.g. ``incidents.incident``."""

    def to_representation(self, value):
        return f"{value.app_label}.{value.model}"

    def to_internal_value(self, data):
        app_label, _, model = str(data).partition(".")
        found = ContentType.objects.filter(app_label=app_label, model=model).first()
        if found is None:
            raise serializers.ValidationError(
                gettext("Unknown record type; e.g. incidents.incident.")
            )
        return found


class TargetSerializer(ModelSerializer):
    class Meta:
        model = Target
        fields = ["name", "metric", "duration", "calendar"]


class ThresholdSerializer(ModelSerializer):
    class Meta:
        model = Threshold
        fields = [
            "percent",
            "notify_assignee",
            "notify_team_manager",
            "notify_addresses",
            "raise_priority",
            "reassign_to",
        ]


class AgreementSerializer(ModelSerializer):
    record_type = RecordTypeField()
    targets = TargetSerializer(many=True, required=False)
    thresholds = ThresholdSerializer(many=True, required=False)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "name",
            "kind",
            "record_type",
            "order",
            "active",
            "description",
            "priorities",
            "service",
            "organization",
            "conditions",
            "team",
            "supplier",
            "pause_when",
            "run_when",
            "on_priority_change",
            "targets",
            "thresholds",
        ]

    def create(self, validated_data):
        return definitions.save_agreement(None, validated_data, self.context["request"].user)

    def update(self, instance, validated_data):
        expected = validated_data.pop("expected_version", None)
        user = self.context["request"].user
        return definitions.save_agreement(instance, validated_data, user, expected)


class CalendarViewSet(TrackedViewSet):
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    queryset = BusinessCalendar.objects.prefetch_related("working_periods", "closed_days")
    serializer_class = CalendarSerializer
    permission_classes = [StaffReadAdministratorWrite]
    filterset_fields = ["always_open"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]


class AgreementViewSet(TrackedViewSet):
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    queryset = Agreement.objects.select_related("record_type").prefetch_related(
        "targets", "thresholds"
    )
    serializer_class = AgreementSerializer
    permission_classes = [StaffReadAdministratorWrite]
    filterset_fields = ["kind", "active"]
    ordering_fields = ["order", "name", "id"]
    ordering = ["order"]
