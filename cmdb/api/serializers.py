import copy

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.accounts.models import Location, Team
from itsm.api.serializers import ModelSerializer, Serializer

from .. import services
from ..models import (
    AttributeDefinition,
    CIClass,
    ConfigurationItem,
    DataSource,
    ImportRun,
    Relationship,
    RelationshipType,
)


def _check_model(instance, attrs: dict) -> None:
    """The model's own ``clean`` on a copy with the changes (what it was read as stays
    known, so renames and rule changes are told apart from the rest)."""
    candidate = copy.copy(instance)
    for name, value in attrs.items():
        setattr(candidate, name, value)
    try:
        candidate.clean()
    except ValidationError as exc:
        raise serializers.ValidationError(exc.message_dict) from None


class AttributeDefinitionSerializer(ModelSerializer):
    ci_class = serializers.SlugRelatedField(slug_field="key", queryset=CIClass.objects.all())

    class Meta:
        model = AttributeDefinition
        fields = [
            "id",
            "ci_class",
            "key",
            "label",
            "type",
            "required",
            "unique",
            "choices",
            "help_text",
            "order",
        ]

    def validate(self, attrs):
        _check_model(self.instance or AttributeDefinition(), attrs)
        return attrs


class CIClassSerializer(ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="key", queryset=CIClass.objects.all(), allow_null=True, required=False
    )
    attributes = AttributeDefinitionSerializer(many=True, read_only=True)

    class Meta:
        model = CIClass
        fields = [
            "id",
            "key",
            "name",
            "parent",
            "description",
            "identification_rules",
            "is_service",
            "is_hardware",
            "is_software",
            "attributes",
        ]

    def validate(self, attrs):
        _check_model(self.instance or CIClass(), attrs)
        return attrs


class RelationshipTypeSerializer(ModelSerializer):
    class Meta:
        model = RelationshipType
        fields = ["id", "key", "name", "reverse_name", "outage_spreads"]


class DataSourceSerializer(ModelSerializer):
    trusted_fields = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list
    )
    trusted_relationship_types = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list
    )

    class Meta:
        model = DataSource
        fields = ["id", "key", "name", "trusted_fields", "trusted_relationship_types"]


class ConfigurationItemSerializer(ModelSerializer):
    ci_class = serializers.SlugRelatedField(slug_field="key", queryset=CIClass.objects.all())
    class_name = serializers.CharField(source="ci_class.name", read_only=True)
    owner_team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    support_team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), allow_null=True, required=False
    )
    attributes = serializers.DictField(required=False)

    class Meta:
        model = ConfigurationItem
        fields = [
            "id",
            "name",
            "ci_class",
            "class_name",
            "status",
            "environment",
            "description",
            "owner_team",
            "support_team",
            "location",
            "attributes",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]

    def create(self, validated_data):
        return services.create_ci(self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        expected = validated_data.pop("expected_version", None)
        user = self.context["request"].user
        return services.update_ci(instance, user, validated_data, expected_version=expected)


class ReachedSerializer(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    ci_class = serializers.CharField()
    status = serializers.CharField()
    is_service = serializers.BooleanField()
    depth = serializers.IntegerField()
    via = serializers.IntegerField(allow_null=True, help_text=_("The CI it was reached from."))
    relationship = serializers.CharField(allow_null=True, help_text=_("How it was reached."))


class ImpactSerializer(Serializer):
    ci = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=["impact", "dependencies"])
    depth = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField(help_text=_("Every CI reached."))
    services = ReachedSerializer(many=True, help_text=_("Every business service reached."))
    items = ReachedSerializer(many=True)


class RelationshipSerializer(ModelSerializer):
    type = serializers.SlugRelatedField(slug_field="key", queryset=RelationshipType.objects.all())
    source = serializers.PrimaryKeyRelatedField(queryset=ConfigurationItem.objects.all())
    target = serializers.PrimaryKeyRelatedField(queryset=ConfigurationItem.objects.all())
    source_name = serializers.CharField(source="source.name", read_only=True)
    target_name = serializers.CharField(source="target.name", read_only=True)
    label = serializers.SerializerMethodField()

    class Meta:
        model = Relationship
        fields = [
            "id",
            "source",
            "source_name",
            "type",
            "target",
            "target_name",
            "label",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        # The service says which relationship exists already, naming the target.
        validators = []

    @extend_schema_field(serializers.CharField())
    def get_label(self, relationship) -> str:
        return f"{relationship.source.name} {relationship.type.name} {relationship.target.name}"


class ImportRequestSerializer(Serializer):
    data_source = serializers.SlugRelatedField(slug_field="key", queryset=DataSource.objects.all())
    items = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        default=list,
        help_text=(
            _(
                "CIs: {class, name, status, environment, description, owner_team, "
                "support_team, location (names), attributes: {...}}."
            )
        ),
    )
    relationships = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        default=list,
        help_text=(
            _(
                "{source: reference, type: key, target: reference}; a reference is "
                "{class, name} or {class, <identifying attributes>}."
            )
        ),
    )
    dry_run = serializers.BooleanField(
        default=False, help_text=_("Preview: report what would happen, change nothing.")
    )

    def validate(self, attrs):
        if not attrs["items"] and not attrs["relationships"]:
            raise serializers.ValidationError({"items": gettext("Send items or relationships.")})
        if len(attrs["items"]) + len(attrs["relationships"]) > 100_000:
            raise serializers.ValidationError(
                {"items": gettext("At most 100,000 rows per request.")}
            )
        return attrs


class ImportRunSerializer(ModelSerializer):
    data_source = serializers.SlugRelatedField(slug_field="key", read_only=True)

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "data_source",
            "status",
            "started_at",
            "finished_at",
            "created",
            "updated",
            "unchanged",
            "failed",
            "relationships_created",
            "results",
        ]
        read_only_fields = fields
