"""The deployments' API (staff: ``/api/v1/deployments/``) and the DevOps API pipelines
call with a service account's token (``/api/v1/devops/…``): requesting a deployment,
asking its gate, posting its outcome; and the GitHub deployment protection rules'
receiver."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from changes.models import Change
from cmdb.models import ConfigurationItem
from itsm.api.authentication import ApiTokenAuthentication
from itsm.api.permissions import IsAgent
from itsm.api.viewsets import RecordViewSet

from .. import devops, github, services
from ..filters import ORDERING_FIELDS, DeploymentFilterSet
from ..models import Deployment
from .serializers import (
    DeploymentSerializer,
    GateSerializer,
    OutcomeAnswerSerializer,
    OutcomeSerializer,
    PipelineAnswerSerializer,
    PipelineRequestSerializer,
)


def deployment_queryset():
    return Deployment.objects.select_related(
        "release",
        "change",
        "deployed_by",
        "assigned_to",
        "assignment_group",
        "service_account__user",
    ).prefetch_related(
        Prefetch("configuration_items", queryset=ConfigurationItem.objects.only("pk", "name"))
    )


@extend_schema_view(
    list=extend_schema(summary="List deployments"),
    create=extend_schema(summary="Record a deployment"),
    retrieve=extend_schema(summary="Read a deployment"),
    partial_update=extend_schema(summary="Change a deployment's fields or status"),
)
class DeploymentViewSet(RecordViewSet):
    permission_classes = [IsAgent]
    queryset = deployment_queryset()
    serializer_class = DeploymentSerializer
    filterset_class = DeploymentFilterSet
    ordering_fields = ORDERING_FIELDS
    ordering = ["-created_at"]
    lookup_value_regex = r"DPL\d{7,}"
    record_services = services


class RunConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class IsServiceAccount(permissions.BasePermission):
    """A pipeline: an active service account, authenticated by an API token (scoped
    ``deployments:write`` or wider: the authentication checks it); a person's session or
    token is refused, whatever their role."""

    message = _("The DevOps API is for service accounts, with their API token.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        account = getattr(user, "service_account", None)
        return account is not None and account.active and request.auth is not None


class DevOpsDeploymentViewSet(viewsets.GenericViewSet):
    """Pipelines ask before they deploy: ``POST`` a deployment (idempotent on pipeline +
    run + environment), ``GET …/gate/`` (asked at that moment), ``POST …/outcome/``."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsServiceAccount]
    queryset = Deployment.objects.select_related("change")
    lookup_field = "number"
    lookup_value_regex = r"DPL\d{7,}"
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def get_serializer_class(self):
        return {"outcome": OutcomeSerializer}.get(self.action, PipelineRequestSerializer)

    def answer(self, deployment) -> dict:
        request, number = self.request, deployment.number
        change_number = (
            Change.objects.filter(pk=deployment.change_id).values_list("number", flat=True).first()
        )
        return {
            "number": number,
            "change": change_number,
            "environment": deployment.environment,
            "pipeline": deployment.pipeline,
            "run": deployment.run,
            "commit": deployment.commit,
            "version": deployment.software_version,
            "gate_url": reverse("devops-deployment-gate", args=[number], request=request),
            "outcome_url": reverse("devops-deployment-outcome", args=[number], request=request),
        }

    @extend_schema(
        summary="A pipeline asks to deploy",
        request=PipelineRequestSerializer,
        responses={201: PipelineAnswerSerializer, 409: None},
    )
    def create(self, request):
        """Opens the change the environment requires (or links the one named) and the
        deployment; a retry of the same pipeline, run and environment answers the same."""
        serializer = PipelineRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            deployment, _created = devops.request_deployment(request.user.service_account, data)
        except devops.RunConflict as conflict:
            raise RunConflictError(str(conflict)) from None
        return Response(self.answer(deployment), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Ask the gate now", responses=GateSerializer)
    @action(detail=True, methods=["get"])
    def gate(self, request, number=None):
        """``allowed``, ``awaiting`` or ``prevented``, with reasons, decided at this moment."""
        return Response(devops.gate(self.get_object()).as_dict())

    @extend_schema(
        summary="Post the deployment's outcome",
        request=OutcomeSerializer,
        responses={200: OutcomeAnswerSerializer, 409: None},
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request, number=None):
        """Records the status and closes the change (as far as its model allows); the same
        outcome again answers the same."""
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            deployment = devops.record_outcome(
                self.get_object(),
                serializer.validated_data["result"],
                serializer.validated_data.get("log_url", ""),
            )
        except devops.RunConflict as conflict:
            raise RunConflictError(str(conflict)) from None
        change = (
            Change.objects.filter(pk=deployment.change_id)
            .values("number", "state", "closure_code")
            .first()
            or {}
        )
        return Response(
            {
                "number": deployment.number,
                "status": deployment.state,
                "change": change.get("number"),
                "change_state": change.get("state"),
                "closure_code": change.get("closure_code"),
            }
        )


class GitHubReceiver(APIView):
    """GitHub's ``deployment_protection_rule`` events (a custom deployment protection
    rule): the body's HMAC-SHA256 checked against an integration's secret
    (``X-Hub-Signature-256``) before anything is read; then the deployment and its change,
    as a pipeline's request, and the run's callback answered once the gate decides."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="GitHub deployment protection rule events",
        request=None,
        responses={200: None, 202: None, 401: None, 403: None},
    )
    def post(self, request):
        body = request.body
        integration = github.verified_integration(
            body, request.headers.get("X-Hub-Signature-256", "")
        )
        if integration is None:
            if not request.headers.get("X-Hub-Signature-256"):
                return Response(
                    {"detail": _("Signed events only (X-Hub-Signature-256).")},
                    status=status.HTTP_401_UNAUTHORIZED,
                )
            return Response({"detail": _("Bad signature.")}, status=status.HTTP_403_FORBIDDEN)
        event = request.headers.get("X-GitHub-Event", "")
        answer, code = github.receive(integration, event, body)
        return Response(answer, status=code)
