from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalogue import variables
from catalogue.models import CatalogueCategory, CatalogueItem, Variable

from .serializers import AnswersSerializer, CatalogueCategorySerializer, CatalogueItemSerializer


class CatalogueCategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = CatalogueCategory.objects.all()
    serializer_class = CatalogueCategorySerializer
    ordering_fields = ["order", "name", "id"]
    ordering = ["order"]


class CatalogueItemViewSet(viewsets.ReadOnlyModelViewSet):
    """What you may order, each with its form as JSON Schema."""

    serializer_class = CatalogueItemSerializer
    filterset_fields = ["category", "service"]
    ordering_fields = ["order", "name", "id"]
    ordering = ["order"]

    def get_queryset(self):
        return (
            CatalogueItem.objects.orderable_by(self.request.user)
            .select_related("category")
            .prefetch_related(
                Prefetch("variables", queryset=Variable.objects.order_by("order", "pk"))
            )
        )

    @extend_schema(request=AnswersSerializer, responses=AnswersSerializer)
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        """Check answers without ordering: 200 with the answers as they would be kept, or
        400 naming each variable that is wrong."""
        item = self.get_object()
        serializer = AnswersSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cleaned = variables.validate(item, serializer.validated_data["variables"], request.user)
        return Response({"variables": cleaned})
