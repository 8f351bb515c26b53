"""The asset management API: the asset register (with lifecycle moves and history),
suppliers, contracts, licences and the licence compliance report. Staff read and write;
an end user may only list and read the assets assigned to them."""

from django.utils.translation import gettext
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cmdb.models import ConfigurationItem
from itsm.api.permissions import IsAgent
from itsm.api.viewsets import IF_MATCH, TrackedViewSet
from itsm.core import services as core
from itsm.core.scoping import separation
from practices.assets import compliance, services
from practices.assets.filters import (
    ASSET_ORDERING,
    CONTRACT_ORDERING,
    AssetFilterSet,
    ContractFilterSet,
    LicenceFilterSet,
    SupplierFilterSet,
)
from practices.assets.models import Asset, Contract, Licence, Supplier

from .serializers import (
    AssetHistorySerializer,
    AssetSerializer,
    ComplianceRowSerializer,
    ContractSerializer,
    EndUserAssetSerializer,
    LicenceSerializer,
    MoveSerializer,
    SupplierSerializer,
)


class StaffOrOwnAssetsReadOnly(permissions.BasePermission):
    """Staff do everything; end users list and read (their own, by the queryset)."""

    END_USER_ACTIONS = frozenset({"list", "retrieve"})

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_agent:
            return True
        return request.method in permissions.SAFE_METHODS and view.action in self.END_USER_ACTIONS


class StaffViewSet(TrackedViewSet):
    permission_classes = [IsAgent]


def _asset_for_reader(many=False):
    return PolymorphicProxySerializer(
        component_name="AssetForReader",
        serializers=[AssetSerializer, EndUserAssetSerializer],
        resource_type_field_name=None,
        many=many,
    )


_READER_NOTE = (
    " Staff get every field; an end user gets only their own assets, and of those only the "
    "tag, model, serial number, state, warranty end, location name and assigned user."
)


@extend_schema_view(
    list=extend_schema(
        description="The asset register." + _READER_NOTE, responses=_asset_for_reader(True)
    ),
    retrieve=extend_schema(description="One asset." + _READER_NOTE, responses=_asset_for_reader()),
)
class AssetViewSet(TrackedViewSet):
    """The asset register. ``POST …/move/`` takes an asset through its lifecycle;
    ``GET …/history/`` lists every move and field change with who, when, old and new
    (staff only: the history holds internal values)."""

    queryset = Asset.objects.select_related("vendor", "assigned_to", "location")
    serializer_class = AssetSerializer
    permission_classes = [StaffOrOwnAssetsReadOnly]
    filterset_class = AssetFilterSet
    ordering_fields = ASSET_ORDERING
    ordering = ["asset_tag"]
    lookup_field = "asset_tag"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9._-]*"

    def get_serializer_class(self):
        """End users (who may only list and read) get the reduced shape."""
        user = getattr(self.request, "user", None)
        if getattr(self, "swagger_fake_view", False) or getattr(user, "is_agent", False):
            return AssetSerializer
        return EndUserAssetSerializer

    @extend_schema(request=MoveSerializer, responses=AssetSerializer, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def move(self, request, asset_tag=None):
        """Move the asset to another lifecycle state (400 naming the allowed next states if
        that move is not allowed); deploying needs an assigned user or a location."""
        asset = self.get_object()
        expected = self.expected_version(asset)
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        target = data.pop("state")
        note = data.pop("note", "")
        asset = services.move(asset, request.user, target, data, note, expected)
        return self.answer(asset)

    @extend_schema(responses=AssetHistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, asset_tag=None):
        """Every change of the asset, oldest first."""
        asset = self.get_object()
        entries = core.timeline(asset, request.user)
        return Response(AssetHistorySerializer(entries, many=True).data)


class SupplierViewSet(StaffViewSet):
    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    filterset_class = SupplierFilterSet
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]


class ContractViewSet(StaffViewSet):
    queryset = Contract.objects.select_related("supplier", "owner").prefetch_related(
        "assets", "configuration_items"
    )
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet
    ordering_fields = CONTRACT_ORDERING
    ordering = ["reference"]


STATUS_PARAM = OpenApiParameter(
    "status",
    str,
    enum=list(compliance.ComplianceStatus.LABELS),
    description="Only rows with this status.",
)


class LicenceViewSet(StaffViewSet):
    """Software licences; ``GET licences/compliance/`` compares them with installations."""

    queryset = Licence.objects.select_related("software")
    serializer_class = LicenceSerializer
    filterset_class = LicenceFilterSet
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        """Separated by organization, the licences of the software CIs the caller may see
        (not another customer's)."""
        licences = super().get_queryset()
        if separation(self.request.user) is None:
            return licences
        software = ConfigurationItem.objects.visible_to(self.request.user).values("pk")
        return licences.filter(software__in=software)

    @extend_schema(responses=ComplianceRowSerializer(many=True), parameters=[STATUS_PARAM])
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def compliance(self, request):
        """For each licensed or installed software CI: entitlements (currently valid
        licences), installations (non-retired hardware it is installed on), the difference
        and over-licensed / under-licensed / compliant."""
        wanted = request.query_params.get("status")
        if wanted and wanted not in compliance.ComplianceStatus.LABELS:
            raise ValidationError(
                {
                    "status": gettext("One of: %(values)s.")
                    % {"values": ", ".join(compliance.ComplianceStatus.LABELS)}
                }
            )
        rows = compliance.report()
        if wanted:
            rows = [row for row in rows if row.status == wanted]
        return Response(ComplianceRowSerializer(rows, many=True).data)
