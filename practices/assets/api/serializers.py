from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cmdb.models import ConfigurationItem
from itsm.accounts.models import Location
from itsm.api.serializers import AllowedStatesField, ModelSerializer, Serializer, UsernameField
from practices.assets import services
from practices.assets.compliance import ComplianceStatus
from practices.assets.models import Asset, Contract, Licence, Supplier
from practices.assets.workflows import AssetState


def _enum(choices, description=""):
    """A plain string enum in the schema, without a shared component whose name would
    collide with other apps' ``state``/``kind``/``metric`` enums."""
    schema = {"type": "string", "enum": [value for value, _ in choices]}
    if description:
        schema["description"] = description
    return schema


@extend_schema_field(_enum(AssetState.choices, "Lifecycle state."))
class AssetStateField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=AssetState.choices, **kwargs)


@extend_schema_field(_enum(Contract.Kind.choices))
class ContractKindField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Contract.Kind.choices, **kwargs)


@extend_schema_field(_enum(Licence.Metric.choices))
class LicenceMetricField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Licence.Metric.choices, **kwargs)


@extend_schema_field(_enum(ComplianceStatus.CHOICES))
class ComplianceStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=ComplianceStatus.CHOICES, **kwargs)


class SupplierSerializer(ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name", "contact", "email", "phone", "website", "notes", "created_at"]
        read_only_fields = ["id", "created_at"]

    def create(self, validated_data):
        return services.create_supplier(self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        expected = validated_data.pop("expected_version", None)
        user = self.context["request"].user
        return services.update_supplier(instance, user, validated_data, expected)


class AssetSerializer(ModelSerializer):
    state = AssetStateField(
        required=False, help_text=_("On create: where it is now (default ordered).")
    )
    allowed_states = AllowedStatesField(help_text=_("The states you may move this asset to now."))
    vendor = serializers.PrimaryKeyRelatedField(
        queryset=Supplier.objects.all(), required=False, allow_null=True
    )
    vendor_name = serializers.CharField(source="vendor.name", read_only=True, default=None)
    assigned_to = UsernameField(required=False, allow_null=True)
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True
    )
    location_name = serializers.CharField(source="location.name", read_only=True, default=None)
    configuration_item = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Asset
        fields = [
            "id",
            "asset_tag",
            "model",
            "serial_number",
            "state",
            "allowed_states",
            "vendor",
            "vendor_name",
            "purchase_date",
            "purchase_cost",
            "currency",
            "warranty_end",
            "assigned_to",
            "location",
            "location_name",
            "configuration_item",
            "notes",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "version"]

    def create(self, validated_data):
        return services.create_asset(self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        expected_version = validated_data.pop("expected_version", None)
        user = self.context["request"].user
        return services.update_asset(instance, user, validated_data, expected_version)


@extend_schema_field(
    {
        "type": "string",
        "description": "Lifecycle state: one of "
        + ", ".join(value for value, _ in AssetState.choices)
        + ".",
    }
)
class ReadStateField(serializers.CharField):
    """The state shown to an end user, documented as text so that the schema keeps a
    single enum of asset states (on Asset)."""


class EndUserAssetSerializer(ModelSerializer):
    """An asset as the person it is assigned to sees it: what identifies the device and
    where it is, without the internal fields (vendor, costs, notes, CMDB link)."""

    state = ReadStateField(read_only=True)
    location_name = serializers.CharField(source="location.name", read_only=True, default=None)
    assigned_to = UsernameField(read_only=True)

    class Meta:
        model = Asset
        fields = [
            "asset_tag",
            "model",
            "serial_number",
            "state",
            "warranty_end",
            "location_name",
            "assigned_to",
        ]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "string",
        "description": "The state to move to: one of "
        + ", ".join(value for value, _ in AssetState.choices)
        + ".",
    }
)
class TargetStateField(serializers.ChoiceField):
    """The target of a move: the same states, documented as text so that the schema keeps
    a single enum of asset states (on Asset)."""

    def __init__(self, **kwargs):
        super().__init__(choices=AssetState.choices, **kwargs)


class MoveSerializer(Serializer):
    state = TargetStateField()
    assigned_to = UsernameField(
        required=False, allow_null=True, help_text=_("Assign in the same step (deploy to someone).")
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AssetHistorySerializer(Serializer):
    """One line of an asset's history: who changed what, when, from which value to which."""

    id = serializers.IntegerField()
    kind = serializers.CharField(help_text=_("created, state, fields or notification."))
    actor = serializers.CharField(source="actor.username", default=None)
    created_at = serializers.DateTimeField()
    body = serializers.CharField()
    data = serializers.JSONField(
        help_text=_('State: {"from": old, "to": new}; fields: {"field": [old, new]}.')
    )


class ContractSerializer(ModelSerializer):
    kind = ContractKindField()
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    owner = UsernameField(required=False, allow_null=True)
    assets = serializers.SlugRelatedField(
        slug_field="asset_tag",
        queryset=Asset.objects.all(),
        many=True,
        required=False,
        help_text=_("Asset tags of the assets it covers."),
    )
    configuration_items = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "reference",
            "kind",
            "supplier",
            "supplier_name",
            "start_date",
            "end_date",
            "renewal_date",
            "notice_period_days",
            "cost_per_year",
            "currency",
            "owner",
            "notes",
            "assets",
            "configuration_items",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def create(self, validated_data):
        return services.create_contract(self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        expected = validated_data.pop("expected_version", None)
        user = self.context["request"].user
        return services.update_contract(instance, user, validated_data, expected)


class LicenceSerializer(ModelSerializer):
    software = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), help_text=_("A software CI.")
    )
    software_name = serializers.CharField(source="software.name", read_only=True)
    metric = LicenceMetricField(required=False)
    contract = serializers.PrimaryKeyRelatedField(
        queryset=Contract.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Licence
        fields = [
            "id",
            "software",
            "software_name",
            "reference",
            "quantity",
            "metric",
            "contract",
            "valid_from",
            "valid_until",
            "cost",
            "currency",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def create(self, validated_data):
        return services.create_licence(self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        expected = validated_data.pop("expected_version", None)
        user = self.context["request"].user
        return services.update_licence(instance, user, validated_data, expected)


class ComplianceRowSerializer(Serializer):
    software = serializers.IntegerField(source="software.pk", help_text=_("The software CI."))
    software_name = serializers.CharField(source="software.name")
    entitlements = serializers.IntegerField(help_text=_("Sum over currently valid licences."))
    installations = serializers.IntegerField(
        help_text=_("Non-retired hardware CIs it is installed on.")
    )
    difference = serializers.IntegerField(help_text=_("Entitlements minus installations."))
    status = ComplianceStatusField()
