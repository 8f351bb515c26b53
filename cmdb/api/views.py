"""The CMDB over the API: classes and attributes (administrators change them), CIs with
their impact and history, relationships, data sources and batch imports. Staff only."""

from django.db import transaction
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from itsm.api.filters import FilterBackend
from itsm.api.permissions import IsAgent, StaffReadAdministratorWrite
from itsm.api.serializers import JournalEntrySerializer
from itsm.api.viewsets import TrackedViewSet
from itsm.core.scoping import separation
from itsm.core.views import parse_id

from .. import imports, services
from ..filters import NAME_ORDERING, ConfigurationItemFilterSet, RelationshipFilterSet
from ..impact import DEPENDENCIES, IMPACT, analyse
from ..models import (
    AttributeDefinition,
    CIClass,
    ConfigurationItem,
    DataSource,
    ImportRun,
    Relationship,
    RelationshipType,
)
from .serializers import (
    AttributeDefinitionSerializer,
    CIClassSerializer,
    ConfigurationItemSerializer,
    DataSourceSerializer,
    ImpactSerializer,
    ImportRequestSerializer,
    ImportRunSerializer,
    RelationshipSerializer,
    RelationshipTypeSerializer,
)

MAX_DEPTH = 50
#: Items an impact answer lists (``count`` is always the whole number reached).
IMPACT_ITEMS, MAX_IMPACT_ITEMS = 1000, 10_000


class CIClassViewSet(viewsets.ModelViewSet):
    """CI classes in their hierarchy, each with its attribute definitions."""

    queryset = CIClass.objects.select_related("parent").prefetch_related("attributes")
    serializer_class = CIClassSerializer
    permission_classes = [StaffReadAdministratorWrite]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_field = "key"
    filterset_fields = ["is_service", "is_hardware", "is_software"]
    ordering = ["name"]
    pagination_class = None


class AttributeDefinitionViewSet(viewsets.ModelViewSet):
    queryset = AttributeDefinition.objects.select_related("ci_class")
    serializer_class = AttributeDefinitionSerializer
    permission_classes = [StaffReadAdministratorWrite]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields = ["ci_class__key", "type"]
    ordering = ["ci_class__name", "order", "key"]
    pagination_class = None


class RelationshipTypeViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = RelationshipType.objects.all()
    serializer_class = RelationshipTypeSerializer
    permission_classes = [IsAgent]
    pagination_class = None


class DataSourceViewSet(viewsets.ModelViewSet):
    queryset = DataSource.objects.all()
    serializer_class = DataSourceSerializer
    permission_classes = [StaffReadAdministratorWrite]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_field = "key"
    pagination_class = None


DEPTH = OpenApiParameter(
    "depth", OpenApiTypes.INT, description=f"How far to walk (1 to {MAX_DEPTH}); omit for all."
)
DIRECTION = OpenApiParameter(
    "direction",
    OpenApiTypes.STR,
    enum=[IMPACT, DEPENDENCIES],
    description="impact: what an outage of this CI affects; dependencies: what it needs.",
)
LIMIT = OpenApiParameter(
    "limit",
    OpenApiTypes.INT,
    description=f"How many CIs to list, nearest first (default {IMPACT_ITEMS}, at most "
    f"{MAX_IMPACT_ITEMS}); count and services always cover everything reached.",
)
ATTRIBUTES = OpenApiParameter(
    "attr.<key>",
    OpenApiTypes.STR,
    description="Filter by an attribute value; also attr.<key>__gte, __lte, __gt, __lt, "
    "__icontains.",
)


class NameOrdering(OrderingFilter):
    """``ordering=name`` sorts by the name whatever its case (``sort_name``)."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        return [NAME_ORDERING.get(term, term) for term in ordering or ()] or ordering


@extend_schema(parameters=[ATTRIBUTES])
class ConfigurationItemViewSet(TrackedViewSet):
    """Configuration items. Writes go through the CMDB's services: attributes are checked
    against the class, identification keys kept unique, and every change is in the
    history. PATCH honours If-Match with the ETag ``"ci<id>-v<version>"``."""

    queryset = ConfigurationItem.objects.select_related("ci_class")
    serializer_class = ConfigurationItemSerializer
    permission_classes = [IsAgent]
    filterset_class = ConfigurationItemFilterSet
    filter_backends = [FilterBackend, NameOrdering]
    ordering_fields = ["name", "id", "updated_at", "created_at"]
    ordering = ["name", "id"]

    def filter_queryset(self, queryset):
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            return super().filter_queryset(queryset)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None

    @extend_schema(parameters=[DEPTH, DIRECTION, LIMIT], responses=ImpactSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def impact(self, request, pk=None):
        """What an outage of this CI affects (or, with ``direction=dependencies``, what it
        depends on), to any depth, cycles included; business services listed apart."""
        ci = self.get_object()
        direction = request.query_params.get("direction", IMPACT)
        if direction not in (IMPACT, DEPENDENCIES):
            raise ValidationError(
                {
                    "direction": gettext("One of: %(values)s.")
                    % {"values": f"{IMPACT}, {DEPENDENCIES}"}
                }
            )
        depth = request.query_params.get("depth")
        if depth not in (None, ""):
            depth = parse_id(depth)
            if depth is None or not 1 <= depth <= MAX_DEPTH:
                raise ValidationError(
                    {"depth": gettext("A whole number from 1 to %(max)d.") % {"max": MAX_DEPTH}}
                )
        else:
            depth = None
        limit = parse_id(request.query_params.get("limit", str(IMPACT_ITEMS)))
        if limit is None or not 1 <= limit <= MAX_IMPACT_ITEMS:
            raise ValidationError(
                {"limit": gettext("A whole number from 1 to %(max)d.") % {"max": MAX_IMPACT_ITEMS}}
            )
        analysis = analyse(ci, direction, depth, limit=limit, reader=request.user)
        depth_of = {r.ci_id: r for r in analysis.reached}
        rows = []
        for reached, item, relationship in analysis.rows():
            label = analysis.describe(relationship) if relationship is not None else None
            rows.append(
                {
                    "id": item.pk,
                    "name": item.name,
                    "ci_class": item.ci_class.key,
                    "status": item.status,
                    "is_service": item.ci_class.is_service,
                    "depth": reached.depth,
                    "via": reached.via_ci_id,
                    "relationship": label,
                }
            )
        data = {
            "ci": ci.pk,
            "direction": direction,
            "depth": depth,
            "count": analysis.total,
            "services": [
                {
                    "id": item.pk,
                    "name": item.name,
                    "ci_class": item.ci_class.key,
                    "status": item.status,
                    "is_service": True,
                    "depth": depth_of[item.pk].depth,
                    "via": depth_of[item.pk].via_ci_id,
                    "relationship": None,
                }
                for item in analysis.services
            ],
            "items": rows,
        }
        return Response(ImpactSerializer(data).data)

    @extend_schema(responses=JournalEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        """Every change to the CI, newest first: who, when, old and new values."""
        ci = self.get_object()
        return Response(JournalEntrySerializer(services.history(ci)[:500], many=True).data)


class RelationshipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Relationship.objects.select_related("type", "source", "target")
    serializer_class = RelationshipSerializer
    permission_classes = [IsAgent]
    filterset_class = RelationshipFilterSet
    ordering = ["id"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        """Relationships between CIs the caller may both see (separated by organization,
        one naming another customer's CI is not theirs)."""
        relationships = super().get_queryset()
        if separation(self.request.user) is None:
            return relationships  # every CI: no subquery
        visible = ConfigurationItem.objects.visible_to(self.request.user).values("pk")
        return relationships.filter(source__in=visible, target__in=visible)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        relationship = services.relate(request.user, data["source"], data["type"], data["target"])
        relationship = self.get_queryset().get(pk=relationship.pk)
        return Response(self.get_serializer(relationship).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.unrelate(self.request.user, instance)


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Batch imports: CIs and relationships matched by each class's identification
    rules; row-by-row results. ``dry_run`` previews; ``apply`` applies a preview."""

    queryset = ImportRun.objects.select_related("data_source")
    serializer_class = ImportRunSerializer
    permission_classes = [IsAgent]
    filterset_fields = ["status", "data_source__key"]
    ordering = ["-started_at", "-id"]
    ordering_fields = ["started_at", "id"]

    @extend_schema(request=ImportRequestSerializer, responses=ImportRunSerializer)
    def create(self, request, *args, **kwargs):
        serializer = ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = imports.run(
            data["data_source"],
            data["items"],
            data["relationships"],
            request.user,
            dry_run=data["dry_run"],
        )
        return Response(ImportRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ImportRunSerializer)
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Apply a preview (``dry_run``) with the rows it was given."""
        with transaction.atomic():
            run = ImportRun.objects.select_for_update().get(pk=self.get_object().pk)
            run = imports.apply(run, request.user)
        return Response(ImportRunSerializer(run).data)
