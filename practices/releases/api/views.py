from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view

from changes.models import Change
from itsm.api.permissions import IsAgent
from itsm.api.viewsets import RecordViewSet

from .. import services
from ..filters import ORDERING_FIELDS, ReleaseFilterSet
from ..models import Release
from .serializers import ReleaseSerializer


def release_queryset():
    return Release.objects.select_related(
        "release_manager", "assigned_to", "assignment_group"
    ).prefetch_related(
        "configuration_items",
        Prefetch("changes", queryset=Change.objects.only("pk", "number")),
    )


@extend_schema_view(
    list=extend_schema(summary="List releases"),
    create=extend_schema(summary="Plan a release"),
    retrieve=extend_schema(summary="Read a release"),
    partial_update=extend_schema(summary="Change a release's fields or state"),
)
class ReleaseViewSet(RecordViewSet):
    permission_classes = [IsAgent]
    queryset = release_queryset()
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilterSet
    ordering_fields = ORDERING_FIELDS
    ordering = ["-created_at"]
    lookup_value_regex = r"RLS\d{7,}"
    record_services = services
