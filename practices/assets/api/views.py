"""The asset management API: the asset register (with lifecycle moves and history),
suppliers, contracts, licences and the licence compliance report. Staff read and write;
an end user may only list and read the assets assigned to them."""

import re

from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from itsm.api.exceptions import PreconditionFailed
from itsm.api.idempotency import idempotent
from itsm.api.viewsets import IDEMPOTENCY_KEY, IF_MATCH
from itsm.core import services as core
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

#: A version is a positive integer column: more digits than a 64-bit number holds can never
#: match (and must not reach ``int()`` or the database), so the header is simply refused.
_ETAG = re.compile(r'^"(?P<tag>.+)-v(?P<version>\d{1,19})"$')


class IsStaff(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_agent)


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


class ScopedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create (idempotent with a key) and PATCH; the queryset is always the
    model's ``visible_to(user)``: the one place that decides who sees what."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return Response({"detail": "Use PATCH."}, status=status.HTTP_405_METHOD_NOT_ALLOWED)
        return super().update(request, *args, **kwargs)

    @extend_schema(parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = serializer.save()
        data = self.get_serializer(self.get_queryset().get(pk=obj.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)


class StaffViewSet(ScopedViewSet):
    permission_classes = [IsStaff]


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
class AssetViewSet(ScopedViewSet):
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

    def expected_version(self, asset) -> int | None:
        header = self.request.headers.get("If-Match")
        if not header or header.strip() == "*":
            return None
        match = _ETAG.match(header.strip())
        if not match or match["tag"] != asset.asset_tag:
            raise PreconditionFailed()
        return int(match["version"])

    def _answer(self, asset, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=asset.pk)
        return Response(self.get_serializer(fresh).data, status=code, headers={"ETag": fresh.etag})

    def retrieve(self, request, *args, **kwargs):
        asset = self.get_object()
        return Response(self.get_serializer(asset).data, headers={"ETag": asset.etag})

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        asset = self.get_object()
        expected = self.expected_version(asset)
        serializer = self.get_serializer(asset, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        asset = serializer.save(expected_version=expected)
        return self._answer(asset)

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
        return self._answer(asset)

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

    @extend_schema(responses=ComplianceRowSerializer(many=True), parameters=[STATUS_PARAM])
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def compliance(self, request):
        """For each licensed or installed software CI: entitlements (currently valid
        licences), installations (non-retired hardware it is installed on), the difference
        and over-licensed / under-licensed / compliant."""
        wanted = request.query_params.get("status")
        if wanted and wanted not in compliance.ComplianceStatus.LABELS:
            raise ValidationError(
                {"status": f"One of: {', '.join(compliance.ComplianceStatus.LABELS)}."}
            )
        rows = compliance.report()
        if wanted:
            rows = [row for row in rows if row.status == wanted]
        return Response(ComplianceRowSerializer(rows, many=True).data)
