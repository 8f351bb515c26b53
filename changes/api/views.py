from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.models import Incident
from itsm.api.permissions import IsAgent, StaffReadAdministratorWrite
from itsm.api.viewsets import RecordViewSet
from problems.models import Problem

from .. import services, templates
from ..filters import ORDERING_FIELDS, TASK_ORDERING_FIELDS, ChangeFilterSet, ChangeTaskFilterSet
from ..models import UNSUCCESSFUL, Change, ChangeModel, ChangeTask, ChangeTemplate
from .risk import ChangeRiskMixin
from .schedule import SlotsMixin
from .serializers import (
    ChangeModelSerializer,
    ChangeSerializer,
    ChangeTaskSerializer,
    ChangeTemplateSerializer,
    TemplateReviewSerializer,
)


def change_queryset():
    return Change.objects.select_related(
        "model", "opened_by", "requested_by", "assigned_to", "follow_up_problem"
    ).prefetch_related(
        "services",
        "configuration_items",
        Prefetch("caused_incidents", queryset=Incident.objects.only("pk", "number")),
        Prefetch("resolves_problems", queryset=Problem.objects.only("pk", "number")),
    )


@extend_schema_view(
    list=extend_schema(summary="List changes"),
    create=extend_schema(summary="Raise a change (or a standard change from a template)"),
    retrieve=extend_schema(summary="Read a change"),
    partial_update=extend_schema(summary="Change a change's fields or state"),
)
class ChangeViewSet(SlotsMixin, ChangeRiskMixin, RecordViewSet):
    permission_classes = [IsAgent]
    queryset = change_queryset()
    serializer_class = ChangeSerializer
    filterset_class = ChangeFilterSet
    ordering_fields = ORDERING_FIELDS
    ordering = ["-created_at"]
    lookup_value_regex = r"CHG\d{7,}"
    record_services = services

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "FollowUpProblem",
                {"problem": serializers.CharField(help_text=_("The new problem's number."))},
            )
        },
    )
    @action(detail=True, methods=["post"], url_path="follow-up-problem")
    def follow_up_problem(self, request, number=None):
        """A failed or backed-out change: raise the follow-up problem, prefilled and linked."""
        problem = services.raise_follow_up_problem(self.get_object(), request.user)
        return Response({"problem": problem.number}, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List change tasks"),
    create=extend_schema(summary="Add a task to a change"),
    retrieve=extend_schema(summary="Read a change task"),
    partial_update=extend_schema(summary="Change a change task's fields or state"),
)
class ChangeTaskViewSet(RecordViewSet):
    permission_classes = [IsAgent]
    queryset = ChangeTask.objects.select_related("change", "assigned_to")
    serializer_class = ChangeTaskSerializer
    filterset_class = ChangeTaskFilterSet
    ordering_fields = TASK_ORDERING_FIELDS
    ordering = ["-created_at"]
    lookup_value_regex = r"CTASK\d{7,}"
    record_services = services


class ChangeModelViewSet(viewsets.ModelViewSet):
    """Change models: the path, the plans each state requires, the approval policy and the
    questionnaire (administrators write, staff read)."""

    queryset = ChangeModel.objects.all()
    serializer_class = ChangeModelSerializer
    permission_classes = [StaffReadAdministratorWrite]
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["kind", "active"]
    ordering = ["name"]
    pagination_class = None


class ChangeTemplateViewSet(viewsets.ModelViewSet):
    """Standard change templates: proposed by staff, reviewed (activated or sent back) and
    retired by change managers; ``failed_changes`` flags a template whose changes failed."""

    queryset = (
        ChangeTemplate.objects.select_related("proposed_by", "reviewed_by")
        .prefetch_related("tasks")
        .annotate(failed_changes=Count("changes", filter=Q(changes__closure_code__in=UNSUCCESSFUL)))
    )
    serializer_class = ChangeTemplateSerializer
    permission_classes = [IsAgent]
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["status", "model"]
    ordering = ["name"]
    pagination_class = None

    def perform_create(self, serializer):
        serializer.instance = templates.propose(self.request.user, serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = templates.edit(
            serializer.instance, self.request.user, serializer.validated_data
        )

    def _answer(self, template):
        return Response(self.get_serializer(self.get_queryset().get(pk=template.pk)).data)

    @extend_schema(request=TemplateReviewSerializer, responses=ChangeTemplateSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Activate a proposed template, or send it back with notes (change managers)."""
        serializer = TemplateReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = templates.review(self.get_object(), request.user, **serializer.validated_data)
        return self._answer(template)

    @extend_schema(request=None, responses=ChangeTemplateSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return self._answer(templates.retire(self.get_object(), request.user))
