from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from incidents import services
from incidents.filters import ORDERING_FIELDS, IncidentFilterSet
from incidents.models import Category, Incident
from itsm.api.viewsets import RecordViewSet
from practices.service_level.queries import sla_timers_prefetch

from .serializers import CategorySerializer, IncidentSerializer


@extend_schema_view(
    list=extend_schema(summary="List incidents you may see"),
    create=extend_schema(summary="Log an incident"),
    retrieve=extend_schema(summary="Read an incident"),
    partial_update=extend_schema(summary="Change an incident's fields or state"),
)
class IncidentViewSet(RecordViewSet):
    # Only what the payload shows by name is joined: teams, categories and services go out
    # as ids read from the row itself. (Joining more than eight tables also makes PostgreSQL
    # plan slowly: tens of milliseconds per list on a million rows.)
    queryset = Incident.objects.select_related(
        "caller", "opened_by", "assigned_to", "parent"
    ).prefetch_related("configuration_items", sla_timers_prefetch())
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    ordering_fields = ORDERING_FIELDS
    ordering = ["-created_at"]
    lookup_value_regex = r"INC\d{7,}"
    record_services = services


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Incident categories; a category with a ``parent`` is a subcategory."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    filterset_fields = ["parent", "active"]
    ordering_fields = ["name", "id"]
    ordering = ["id"]
