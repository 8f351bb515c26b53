from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalogue import services, variables
from catalogue.filters import FulfilmentTaskFilterSet, ServiceRequestFilterSet
from catalogue.models import (
    Approval,
    CatalogueCategory,
    CatalogueItem,
    FulfilmentTask,
    ServiceRequest,
    Variable,
)
from itsm.api.viewsets import RecordViewSet

from .serializers import (
    AnswersSerializer,
    ApproverApprovalSerializer,
    CatalogueCategorySerializer,
    CatalogueItemSerializer,
    DecisionSerializer,
    FulfilmentTaskSerializer,
    ServiceRequestSerializer,
)


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


class ServiceRequestViewSet(RecordViewSet):
    """Order from the catalogue (``item`` and ``variables``), follow, cancel or close."""

    queryset = ServiceRequest.objects.select_related(
        "item", "requester", "requested_for"
    ).prefetch_related(
        Prefetch(
            "approvals",
            queryset=Approval.objects.select_related(
                "approver", "request__item", "request__requested_for"
            ),
        ),
        Prefetch("tasks", queryset=FulfilmentTask.objects.select_related("assignment_group")),
    )
    serializer_class = ServiceRequestSerializer
    filterset_class = ServiceRequestFilterSet
    ordering_fields = ["number", "created_at", "updated_at", "state"]
    ordering = ["-created_at"]
    lookup_value_regex = r"REQ\d{7,}"
    record_services = services


class FulfilmentTaskViewSet(RecordViewSet):
    """Fulfilment tasks, worked by teams (staff only). Tasks are made by the platform."""

    queryset = FulfilmentTask.objects.select_related("request", "assignment_group", "assigned_to")
    serializer_class = FulfilmentTaskSerializer
    filterset_class = FulfilmentTaskFilterSet
    ordering_fields = ["number", "created_at", "updated_at", "state"]
    ordering = ["-created_at"]
    lookup_value_regex = r"TASK\d{7,}"
    record_services = services
    http_method_names = ["get", "patch", "head", "options"]


class ApprovalViewSet(viewsets.ReadOnlyModelViewSet):
    """Your approvals (``decision=pending`` by default); approve or reject with a comment."""

    serializer_class = ApproverApprovalSerializer
    filterset_fields = ["decision"]
    ordering_fields = ["created_at", "id"]
    ordering = ["-id"]

    queryset = Approval.objects.none()  # the schema's model; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Approval.objects.none()
        queryset = (
            Approval.objects.filter(approver=self.request.user)
            .select_related("approver", "request__item", "request__requested_for")
            .prefetch_related("request__item__variables")
        )
        if "decision" not in self.request.query_params:
            queryset = queryset.filter(decision=Approval.Decision.PENDING)
        return queryset

    def _decide(self, request, approve: bool):
        approval = self.get_object()
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approval = services.decide(
            approval, request.user, approve, serializer.validated_data.get("comment", "")
        )
        return Response(
            ApproverApprovalSerializer(
                Approval.objects.select_related(
                    "approver", "request__item", "request__requested_for"
                ).get(pk=approval.pk)
            ).data
        )

    @extend_schema(request=DecisionSerializer, responses=ApproverApprovalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, True)

    @extend_schema(request=DecisionSerializer, responses=ApproverApprovalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """A comment is required: the requester sees it."""
        return self._decide(request, False)
