import django_filters
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from incidents.models import Incident
from itsm.api.idempotency import idempotent
from itsm.api.permissions import IsAgent
from itsm.api.viewsets import IDEMPOTENCY_KEY, IF_MATCH, RecordViewSet
from itsm.core.filters import FilterSet, IdFilter
from problems import services
from problems.filters import ORDERING_FIELDS, ProblemFilterSet
from problems.models import Cause, Problem, WorkaroundUse

from .serializers import (
    CauseSerializer,
    KnownErrorSerializer,
    ProblemSerializer,
    PublicKnownErrorSerializer,
    RaiseProblemSerializer,
    TrendGroupSerializer,
    WorkaroundRatingSerializer,
    WorkaroundUseSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List problems (staff)"),
    create=extend_schema(summary="Log a problem"),
    retrieve=extend_schema(summary="Read a problem"),
    partial_update=extend_schema(
        summary="Change a problem's fields or state",
        description="With `state: resolved` and `resolve_incidents: true` the linked open "
        "incidents are resolved with the resolution notes in the same transaction; "
        "`resolved_incidents` lists them.",
    ),
)
class ProblemViewSet(RecordViewSet):
    permission_classes = [IsAgent]
    queryset = Problem.objects.select_related("opened_by", "assigned_to").prefetch_related(
        Prefetch("incidents", queryset=Incident.objects.only("pk", "number")),
        "services",
        "configuration_items",
        Prefetch("causes", queryset=Cause.objects.select_related("created_by")),
    )
    serializer_class = ProblemSerializer
    filterset_class = ProblemFilterSet
    ordering_fields = ORDERING_FIELDS
    ordering = ["-created_at"]
    lookup_value_regex = r"PRB\d{7,}"
    record_services = services

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        record = self.get_object()
        expected = self.expected_version(record)
        serializer = self.get_serializer(record, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        record = serializer.save(expected_version=expected)
        fresh = self.get_queryset().get(pk=record.pk)
        fresh.resolved_incidents = getattr(record, "resolved_incidents", [])
        self._etag_record = fresh
        return Response(self.get_serializer(fresh).data)

    # Causes ----------------------------------------------------------------------------

    @extend_schema(methods=["get"], responses=CauseSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=CauseSerializer,
        responses={201: CauseSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def causes(self, request, number=None):
        """The root cause and contributing causes, in the four dimensions."""
        if request.method == "POST":
            return self._add_cause(request)
        problem = self.get_object()
        causes = problem.causes.select_related("created_by")
        return Response(CauseSerializer(causes, many=True).data)

    @idempotent
    def _add_cause(self, request):
        problem = self.get_object()
        serializer = CauseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cause = services.add_cause(problem, request.user, serializer.validated_data)
        return Response(CauseSerializer(cause).data, status=status.HTTP_201_CREATED)

    def _cause(self, cause_id) -> Cause:
        problem = self.get_object()
        cause = Cause.objects.filter(problem=problem, pk=cause_id).first()
        if cause is None:
            raise Http404
        cause.problem = problem
        return cause

    @extend_schema(methods=["patch"], request=CauseSerializer, responses=CauseSerializer)
    @extend_schema(methods=["delete"], request=None, responses={204: None})
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"causes/(?P<cause_id>\d+)",
        pagination_class=None,
        filter_backends=[],
    )
    def cause(self, request, number=None, cause_id=None):
        cause = self._cause(cause_id)
        if request.method == "DELETE":
            services.remove_cause(cause, request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = CauseSerializer(cause, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        cause = services.update_cause(cause, request.user, serializer.validated_data)
        return Response(CauseSerializer(cause).data)

    # Workaround uses ------------------------------------------------------------------------

    @extend_schema(methods=["get"], responses=WorkaroundUseSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=WorkaroundUseSerializer,
        responses={201: WorkaroundUseSerializer, 200: WorkaroundUseSerializer},
        description="Apply the workaround to an open incident (links it to the problem if "
        "needed). Using it again on the same incident answers 200 with the first use.",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="workaround-uses",
        pagination_class=None,
        filter_backends=[],
    )
    def workaround_uses(self, request, number=None):
        problem = self.get_object()
        if request.method == "POST":
            serializer = WorkaroundUseSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            use, created = services.use_workaround(
                problem, serializer.validated_data["incident"], request.user
            )
            use = WorkaroundUse.objects.select_related(
                "problem", "incident", "used_by", "rated_by"
            ).get(pk=use.pk)
            return Response(
                WorkaroundUseSerializer(use).data,
                status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            )
        uses = problem.workaround_uses.select_related("problem", "incident", "used_by", "rated_by")
        return Response(WorkaroundUseSerializer(uses, many=True).data)

    @extend_schema(request=WorkaroundRatingSerializer, responses=WorkaroundUseSerializer)
    @action(
        detail=True,
        methods=["patch"],
        url_path=r"workaround-uses/(?P<use_id>\d+)",
        pagination_class=None,
        filter_backends=[],
    )
    def rate_workaround_use(self, request, number=None, use_id=None):
        """Rate how well the workaround worked on that incident (the agent who used it, or
        a manager)."""
        problem = self.get_object()
        use = WorkaroundUse.objects.filter(problem=problem, pk=use_id).first()
        if use is None:
            raise Http404
        serializer = WorkaroundRatingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.rate_workaround(
            use,
            request.user,
            serializer.validated_data["effectiveness"],
            serializer.validated_data.get("rating_note", ""),
        )
        use = WorkaroundUse.objects.select_related(
            "problem", "incident", "used_by", "rated_by"
        ).get(pk=use.pk)
        return Response(WorkaroundUseSerializer(use).data)


class KnownErrorFilterSet(FilterSet):
    """Only what an end user may filter on too (nothing internal)."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    service = IdFilter(field_name="services", distinct=False)

    class Meta:
        model = Problem
        fields = ["search", "service"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(workaround__icontains=value))


KNOWN_ERROR_RESPONSE = PolymorphicProxySerializer(
    component_name="KnownErrorForReader",
    serializers=[KnownErrorSerializer, PublicKnownErrorSerializer],
    resource_type_field_name=None,
)


@extend_schema_view(
    list=extend_schema(
        summary="The known error database",
        description="Staff read every known error; everyone else only those with a published "
        "workaround, and of those only the number, title and workaround.",
        responses=PolymorphicProxySerializer(
            component_name="KnownErrorForReader",
            serializers=[KnownErrorSerializer, PublicKnownErrorSerializer],
            resource_type_field_name=None,
            many=True,
        ),
    ),
    retrieve=extend_schema(summary="Read a known error", responses=KNOWN_ERROR_RESPONSE),
)
class KnownErrorViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated]
    lookup_field = "number"
    lookup_value_regex = r"PRB\d{7,}"
    filterset_class = KnownErrorFilterSet
    ordering_fields = ["number", "created_at"]
    ordering = ["-created_at"]
    queryset = Problem.objects.all()

    def get_queryset(self):
        user = self.request.user
        queryset = Problem.objects.known_errors_for(user)
        if user.is_agent:
            return queryset.select_related("assigned_to").prefetch_related(
                "services", "configuration_items"
            )
        return queryset.only("pk", "number", "title", "workaround", "created_at")

    def get_serializer_class(self):
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated and user.is_agent:
            return KnownErrorSerializer
        return PublicKnownErrorSerializer


class ProblemTrendViewSet(viewsets.ViewSet):
    """Problem identification: recent incidents grouped by CI, service and category."""

    permission_classes = [IsAgent]

    @extend_schema(
        summary="Incident trends not yet covered by a problem",
        parameters=[
            OpenApiParameter(
                "threshold", int, description="At least this many incidents (default 3)."
            ),
            OpenApiParameter("days", int, description="In the last this many days (default 7)."),
        ],
        responses=TrendGroupSerializer(many=True),
    )
    def list(self, request):
        groups = services.incident_trends(
            request.query_params.get("threshold"),
            request.query_params.get("days"),
            user=request.user,
        )
        return Response(TrendGroupSerializer(groups, many=True).data)

    @extend_schema(
        summary="Raise a problem for a trend group",
        request=RaiseProblemSerializer,
        responses={201: ProblemSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=False, methods=["post"], url_path="raise")
    @idempotent
    def raise_problem(self, request):
        serializer = RaiseProblemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            problem = services.raise_from_trend(
                request.user, data["group_by"], data["key"], data.get("days")
            )
        problem = ProblemViewSet.queryset.get(pk=problem.pk)
        return Response(
            ProblemSerializer(problem, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )
