from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalogue import services, variables
from catalogue.models import (
    Approval,
    CatalogueCategory,
    CatalogueItem,
    FulfilmentTask,
    ServiceRequest,
    Variable,
)
from itsm.accounts.models import Team
from itsm.api.serializers import ModelSerializer, Serializer, UsernameField


class CatalogueCategorySerializer(ModelSerializer):
    class Meta:
        model = CatalogueCategory
        fields = ["id", "name", "description", "order"]


class VariableSerializer(ModelSerializer):
    class Meta:
        model = Variable
        fields = [
            "name",
            "label",
            "type",
            "required",
            "default",
            "help_text",
            "choices",
            "show_when",
            "require_when",
            "order",
        ]


class CatalogueItemSerializer(ModelSerializer):
    category = serializers.CharField(source="category.name")
    variables = VariableSerializer(many=True)
    schema = serializers.SerializerMethodField(
        help_text=_("The item's form as JSON Schema (Draft 2020-12): build the form from it.")
    )

    class Meta:
        model = CatalogueItem
        fields = [
            "id",
            "name",
            "short_description",
            "description",
            "category",
            "service",
            "expected_delivery",
            "cost",
            "variables",
            "schema",
        ]

    def get_schema(self, item) -> dict:
        return variables.json_schema(item, item.variables.all())


class AnswersSerializer(Serializer):
    variables = serializers.JSONField(help_text=_("Answers by variable name."))


class AnswerSerializer(Serializer):
    label = serializers.CharField(help_text=_("The question."))
    value = serializers.CharField(help_text=_("The answer, as a person reads it."))


class ApprovalSerializer(ModelSerializer):
    request = serializers.CharField(source="request.number", read_only=True)
    item = serializers.CharField(source="request.item.name", read_only=True)
    requested_for = serializers.CharField(source="request.requested_for.username", read_only=True)
    approver = serializers.CharField(source="approver.username", read_only=True)

    class Meta:
        model = Approval
        fields = [
            "id",
            "request",
            "item",
            "requested_for",
            "level",
            "approver",
            "decision",
            "comment",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class ApproverApprovalSerializer(ApprovalSerializer):
    """An approval as its approver reads it: with the cost and the request's answers."""

    cost = serializers.DecimalField(
        source="request.item.cost", max_digits=10, decimal_places=2, read_only=True
    )
    answers = serializers.SerializerMethodField(
        help_text=_("The request's answers as the approver reads them, in the form's order.")
    )

    class Meta(ApprovalSerializer.Meta):
        fields = [
            *ApprovalSerializer.Meta.fields[:4],
            "cost",
            "answers",
            *ApprovalSerializer.Meta.fields[4:],
        ]
        read_only_fields = fields

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, approval) -> list[dict]:
        return [
            {"label": label, "value": value}
            for label, value in variables.display_answers(approval.request)
        ]


class DecisionSerializer(Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class TaskSummarySerializer(ModelSerializer):
    assignment_group = serializers.CharField(source="assignment_group.name", read_only=True)

    class Meta:
        model = FulfilmentTask
        fields = ["number", "title", "stage", "state", "assignment_group"]


class ServiceRequestSerializer(ModelSerializer):
    item = serializers.PrimaryKeyRelatedField(queryset=CatalogueItem.objects.filter(active=True))
    requester = serializers.CharField(source="requester.username", read_only=True)
    requested_for = UsernameField(required=False)
    variables = serializers.JSONField(required=False, default=dict)
    approvals = ApprovalSerializer(many=True, read_only=True)
    tasks = TaskSummarySerializer(many=True, read_only=True)
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.filter(active=True), required=False, allow_null=True
    )
    assigned_to = UsernameField(required=False, allow_null=True)

    class Meta:
        model = ServiceRequest
        fields = [
            "number",
            "title",
            "item",
            "state",
            "requester",
            "requested_for",
            "assignment_group",
            "assigned_to",
            "variables",
            "rejection_reason",
            "approvals",
            "tasks",
            "created_at",
            "updated_at",
            "fulfilled_at",
            "closed_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "title",
            "rejection_reason",
            "created_at",
            "updated_at",
            "fulfilled_at",
            "closed_at",
            "version",
        ]

    def validate(self, attrs):
        if self.instance is None and "state" in self.initial_data:
            raise serializers.ValidationError(
                {"state": gettext("A new request starts as submitted.")}
            )
        if self.instance is None:
            for name in ("assignment_group", "assigned_to"):
                if name in self.initial_data:
                    raise serializers.ValidationError(
                        {name: gettext("A new request is assigned once ordered.")}
                    )
        return attrs

    def create(self, validated_data):
        user = self.context["request"].user
        return services.submit_request(
            user,
            validated_data["item"],
            validated_data.get("variables", {}),
            validated_data.get("requested_for"),
        )

    def update(self, instance, validated_data):
        expected = validated_data.pop("expected_version", None)
        user = self.context["request"].user
        return services.change_request(instance, user, validated_data, expected)


class FulfilmentTaskSerializer(ModelSerializer):
    request = serializers.CharField(source="request.number", read_only=True)
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.filter(active=True), required=False
    )
    assigned_to = UsernameField(required=False, allow_null=True)

    class Meta:
        model = FulfilmentTask
        fields = [
            "number",
            "title",
            "description",
            "request",
            "stage",
            "state",
            "assignment_group",
            "assigned_to",
            "created_at",
            "updated_at",
            "closed_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "title",
            "request",
            "stage",
            "created_at",
            "updated_at",
            "closed_at",
            "version",
        ]

    def update(self, instance, validated_data):
        expected = validated_data.pop("expected_version", None)
        return services.update_task(
            instance, self.context["request"].user, validated_data, expected
        )
