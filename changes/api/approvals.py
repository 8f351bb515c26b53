"""The API of a change's authorisation: approval policies (staff read, administrators
write), change approvals (mine, and deciding one) and CAB meetings (change managers
create them and build their agendas; the board decides items)."""

from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.accounts.models import Team, User
from itsm.api.permissions import IsAgent, StaffReadAdministratorWrite
from itsm.api.serializers import CleanedModelSerializer, ModelSerializer, UsernameField

from .. import approvals, cab
from ..models import (
    AgendaItem,
    ApprovalLevel,
    ApprovalPolicy,
    CabMeeting,
    Change,
    ChangeApproval,
)

# Policies ----------------------------------------------------------------------------------


class ApprovalLevelSerializer(CleanedModelSerializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ApprovalLevel
        fields = ["id", "order", "kind", "mode", "team", "min_risk", "deadline_minutes"]
        read_only_fields = ["id"]


class ApprovalPolicySerializer(CleanedModelSerializer):
    levels = ApprovalLevelSerializer(many=True, required=False)

    class Meta:
        model = ApprovalPolicy
        fields = ["id", "name", "description", "active", "levels"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        levels = attrs.pop("levels", None)
        attrs = super().validate(attrs)
        if levels is not None:
            attrs["levels"] = levels
        return attrs

    def validate_levels(self, levels):
        """The levels together, as the kernel checks every policy's (each once, a team
        only where a team approves, someone in it): each problem beside its level."""
        problems = ApprovalLevel.problems([ApprovalLevel(**level) for level in levels])
        if problems:
            # Keyed by the level's position, as a level's own refusals are.
            errors: dict[str, dict] = {}
            for problem in problems:
                row = errors.setdefault(str(problem.index), {})
                row.setdefault(problem.field, []).append(problem.message)
            raise serializers.ValidationError(errors)
        return levels

    @transaction.atomic
    def create(self, validated_data):
        levels = validated_data.pop("levels", [])
        policy = ApprovalPolicy.objects.create(**validated_data)
        ApprovalLevel.objects.bulk_create(ApprovalLevel(policy=policy, **lv) for lv in levels)
        return policy

    @transaction.atomic
    def update(self, instance, validated_data):
        """``levels``, when given, replaces the policy's levels (changes already waiting
        keep the approvals they have)."""
        levels = validated_data.pop("levels", None)
        instance = super().update(instance, validated_data)
        if levels is not None:
            instance.levels.all().delete()
            ApprovalLevel.objects.bulk_create(ApprovalLevel(policy=instance, **lv) for lv in levels)
        return instance


@extend_schema_view(
    list=extend_schema(summary="List approval policies"),
    create=extend_schema(summary="Create an approval policy with its levels"),
)
class ApprovalPolicyViewSet(viewsets.ModelViewSet):
    """Who authorises a change: levels in order (any one or every approver), each applying
    from a risk up. Staff read; administrators write."""

    queryset = ApprovalPolicy.objects.prefetch_related("levels")
    serializer_class = ApprovalPolicySerializer
    permission_classes = [StaffReadAdministratorWrite]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields = ["active"]
    ordering = ["name"]
    pagination_class = None


# Approvals ---------------------------------------------------------------------------------


class ChangeApprovalSerializer(ModelSerializer):
    change = serializers.SlugRelatedField(slug_field="number", read_only=True)
    change_title = serializers.CharField(source="change.title", read_only=True)
    approver = UsernameField(read_only=True)
    decided_by = UsernameField(read_only=True)

    class Meta:
        model = ChangeApproval
        fields = [
            "id",
            "change",
            "change_title",
            "level",
            "kind",
            "approver",
            "decision",
            "comment",
            "created_at",
            "decided_at",
            "decided_by",
            "due_at",
            "cab_meeting",
        ]
        read_only_fields = fields


class ChangeDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(summary="List change approvals (by default, mine waiting)"),
    retrieve=extend_schema(summary="Read a change approval"),
)
class ChangeApprovalViewSet(viewsets.ReadOnlyModelViewSet):
    """Change approvals. By default the caller's own pending ones (``?mine=false`` for every
    approval, ``?change=CHG…`` for one change's)."""

    serializer_class = ChangeApprovalSerializer
    permission_classes = [IsAgent]
    ordering = ["due_at", "created_at", "pk"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ChangeApproval.objects.none()
        rows = ChangeApproval.objects.select_related("change", "approver", "decided_by")
        params = self.request.query_params
        if self.action == "list":
            if params.get("change"):
                rows = rows.filter(change__number=params["change"])
            elif params.get("mine", "true") != "false":
                rows = rows.filter(approver=self.request.user, decision="pending")
        return rows.order_by("due_at", "created_at", "pk")

    @extend_schema(request=ChangeDecisionSerializer, responses=ChangeApprovalSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve, or reject with a ``comment`` (required): only the approver."""
        serializer = ChangeDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approval = approvals.decide(
            self.get_object(),
            request.user,
            serializer.validated_data["approve"],
            serializer.validated_data["comment"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=approval.pk)).data)


# CAB meetings ------------------------------------------------------------------------------


class AgendaItemSerializer(ModelSerializer):
    change = serializers.SlugRelatedField(
        slug_field="number", queryset=Change.objects.all(), help_text=_("The change, by number.")
    )
    change_title = serializers.CharField(source="change.title", read_only=True)
    decided_by = UsernameField(read_only=True)

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "order",
            "change",
            "change_title",
            "minutes_allotted",
            "started_at",
            "decision",
            "comment",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = [f for f in fields if f != "change"]


class CabMeetingSerializer(ModelSerializer):
    chair = UsernameField(required=False, allow_null=True)
    members = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        many=True,
        required=False,
    )
    items = AgendaItemSerializer(many=True, read_only=True)

    class Meta:
        model = CabMeeting
        fields = [
            "id",
            "title",
            "starts_at",
            "ends_at",
            "location",
            "chair",
            "members",
            "agenda_from",
            "agenda_to",
            "status",
            "minutes",
            "minutes_sent_at",
            "items",
        ]
        read_only_fields = ["id", "status", "minutes_sent_at", "items"]

    def create(self, validated_data):
        return cab.create_meeting(self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        return cab.update_meeting(instance, self.context["request"].user, validated_data)


class ItemDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=cab.Verdict.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


def meeting_queryset():
    return CabMeeting.objects.select_related("chair").prefetch_related(
        "members",
        Prefetch(
            "items",
            queryset=AgendaItem.objects.select_related("change", "decided_by").order_by(
                "order", "pk"
            ),
        ),
    )


@extend_schema_view(
    list=extend_schema(summary="List CAB meetings"),
    create=extend_schema(summary="Plan a CAB meeting (change managers)"),
)
class CabMeetingViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """CAB meetings: staff read; change managers plan them and build their agendas; the
    chair, the members and the change managers decide the items."""

    queryset = meeting_queryset()
    serializer_class = CabMeetingSerializer
    permission_classes = [IsAgent]
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["status"]
    ordering = ["-starts_at"]

    def _answer(self, meeting, code=status.HTTP_200_OK):
        return Response(self.get_serializer(meeting_queryset().get(pk=meeting.pk)).data, code)

    @extend_schema(request=None, responses=CabMeetingSerializer)
    @action(detail=True, methods=["post"], url_path="build-agenda")
    def build_agenda(self, request, pk=None):
        """Add the changes awaiting the CAB planned to start in the agenda's range."""
        meeting = self.get_object()
        cab.build_agenda(meeting, request.user)
        return self._answer(meeting)

    @extend_schema(request=AgendaItemSerializer, responses=CabMeetingSerializer)
    @action(detail=True, methods=["post"])
    def items(self, request, pk=None):
        """Add a change to the agenda by hand."""
        meeting = self.get_object()
        serializer = AgendaItemSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        cab.add_item(meeting, serializer.validated_data["change"], request.user)
        return self._answer(meeting, status.HTTP_201_CREATED)

    @extend_schema(request=ItemDecisionSerializer, responses=AgendaItemSerializer)
    @action(detail=True, methods=["post"], url_path=r"items/(?P<item_id>\d+)/decide")
    def decide_item(self, request, pk=None, item_id=None):
        """Approve or reject (a comment is required) or defer one agenda item."""
        meeting = self.get_object()
        item = get_object_or_404(AgendaItem, meeting=meeting, pk=item_id)
        serializer = ItemDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = cab.decide_item(item, request.user, **serializer.validated_data)
        item = AgendaItem.objects.select_related("change", "decided_by").get(pk=item.pk)
        return Response(AgendaItemSerializer(item, context={"request": request}).data)

    @extend_schema(request=None, responses=CabMeetingSerializer)
    @action(detail=True, methods=["post"], url_path="send-minutes")
    def send_minutes(self, request, pk=None):
        """Send the minutes to the attendees (once)."""
        return self._answer(cab.send_minutes(self.get_object(), request.user))
