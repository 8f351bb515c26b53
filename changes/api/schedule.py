"""The change schedule's API: schedule windows (maintenance windows and blackouts, with
freezes and their lifting), conflicts (read), and the scheduling assistant's slots on a
change (``SlotsMixin``, inherited by ``ChangeViewSet``).

Who may write: staff read everything; administrators keep maintenance windows; change
managers (and administrators) also keep blackouts and enter or lift freezes."""

from datetime import timedelta

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalogue.models import Service
from cmdb.models import CIClass, ConfigurationItem
from incidents.models import Incident
from itsm.api.permissions import IsAgent
from itsm.api.serializers import CleanedModelSerializer, ModelSerializer, Serializer, UsernameField

from .. import conflicts, windows
from ..models import Change, Conflict, ScheduleWindow

# Serializers ------------------------------------------------------------------------------


class ScheduleWindowSerializer(CleanedModelSerializer):
    configuration_items = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )
    ci_classes = serializers.PrimaryKeyRelatedField(
        queryset=CIClass.objects.all(), many=True, required=False
    )
    services = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), many=True, required=False
    )
    incident = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Incident.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": _("There is no incident {value}.")},
    )
    held_changes = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    created_by = UsernameField(read_only=True)

    class Meta:
        model = ScheduleWindow
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "starts_at",
            "ends_at",
            "rrule",
            "time_zone",
            "configuration_items",
            "ci_classes",
            "services",
            "incident",
            "lifted_at",
            "held_changes",
            "active",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "lifted_at", "held_changes", "created_by", "created_at"]

    def validate_rrule(self, value):
        return windows.normalise_rrule(value)


class FreezeSerializer(Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    incident = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Incident.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": _("There is no incident {value}.")},
    )
    configuration_items = serializers.PrimaryKeyRelatedField(
        queryset=ConfigurationItem.objects.all(), many=True, required=False
    )
    services = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), many=True, required=False
    )
    until = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Empty: until lifted.")
    )

    def validate(self, attrs):
        if not (attrs.get("name") or "").strip() and not attrs.get("incident"):
            raise serializers.ValidationError(
                {"name": _("Name the freeze (or give its incident).")}
            )
        return attrs


class ConflictSerializer(ModelSerializer):
    change = serializers.SlugRelatedField(slug_field="number", read_only=True)
    other_change = serializers.SlugRelatedField(slug_field="number", read_only=True)
    configuration_item = serializers.PrimaryKeyRelatedField(read_only=True)
    configuration_item_name = serializers.CharField(
        source="configuration_item.name", read_only=True, default=None
    )
    window_name = serializers.CharField(source="window.name", read_only=True, default=None)

    def to_representation(self, instance):
        """Read through ``conflicts.seen_by``: another team's or customer's change or CI
        is not named (the conflict itself is shown)."""
        data = super().to_representation(instance)
        if instance.hides_other:
            data.update(
                other_change=None,
                configuration_item=None,
                configuration_item_name=None,
                detail=instance.shown_detail,
            )
        return data

    class Meta:
        model = Conflict
        fields = [
            "id",
            "change",
            "kind",
            "other_change",
            "window",
            "window_name",
            "configuration_item",
            "configuration_item_name",
            "detail",
            "detected_at",
        ]
        read_only_fields = fields


class OccurrenceSerializer(Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class SlotSerializer(Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    window = serializers.CharField(help_text=_("The maintenance window it falls in, if any."))


def _refuse(error: DjangoPermissionDenied):
    raise exceptions.PermissionDenied(_("Only a change manager or an administrator may do that."))


# Windows ------------------------------------------------------------------------------------


class WindowFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ScheduleWindow.Kind.choices)
    active = django_filters.BooleanFilter()
    freeze = django_filters.BooleanFilter(
        field_name="incident",
        lookup_expr="isnull",
        exclude=True,
        label=_("Entered for an incident"),
    )
    lifted = django_filters.BooleanFilter(
        field_name="lifted_at", lookup_expr="isnull", exclude=True
    )
    configuration_item = django_filters.NumberFilter(field_name="configuration_items")

    class Meta:
        model = ScheduleWindow
        fields = ["kind", "active"]


@extend_schema_view(
    list=extend_schema(summary="List schedule windows (maintenance windows and blackouts)"),
    create=extend_schema(summary="Add a maintenance window or a blackout"),
    retrieve=extend_schema(summary="Read a schedule window"),
    partial_update=extend_schema(summary="Change a schedule window"),
    destroy=extend_schema(summary="Remove a schedule window (a freeze is lifted first)"),
)
class ScheduleWindowViewSet(viewsets.ModelViewSet):
    """Maintenance windows (administrators) and blackouts (change managers too); a
    recurring window has an RRULE read in its time zone."""

    queryset = ScheduleWindow.objects.select_related("incident", "created_by").prefetch_related(
        "configuration_items", "ci_classes", "services", "held_changes"
    )
    serializer_class = ScheduleWindowSerializer
    permission_classes = [IsAgent]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_class = WindowFilterSet
    ordering = ["starts_at", "id"]

    def _check(self, kind):
        try:
            conflicts.check_window_permission(self.request.user, kind)
        except DjangoPermissionDenied as error:
            _refuse(error)

    def perform_create(self, serializer):
        self._check(serializer.validated_data.get("kind"))
        with transaction.atomic():
            window = serializer.save(created_by=self.request.user)
            transaction.on_commit(lambda: conflicts.redetect_for_window(window))

    def perform_update(self, serializer):
        self._check(serializer.instance.kind)
        self._check(serializer.validated_data.get("kind", serializer.instance.kind))
        with transaction.atomic():
            window = serializer.save()
            transaction.on_commit(lambda: conflicts.redetect_for_window(window))

    def perform_destroy(self, instance):
        self._check(instance.kind)
        with transaction.atomic():
            if instance.lifted_at is None and instance.held_changes.exists():
                conflicts.lift(instance, self.request.user)
            instance.delete()

    @extend_schema(request=FreezeSerializer, responses={201: ScheduleWindowSerializer})
    @action(detail=False, methods=["post"])
    def freeze(self, request):
        """Enter a change lockdown now (usually during a major incident): a blackout over
        the CIs and services named (none: everything) until ``until`` or until lifted;
        matching changes not yet implementing are put on hold."""
        serializer = FreezeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        try:
            window = conflicts.freeze(request.user, **serializer.validated_data)
        except DjangoPermissionDenied as error:
            _refuse(error)
        window = self.get_queryset().get(pk=window.pk)
        return Response(self.get_serializer(window).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ScheduleWindowSerializer)
    @action(detail=True, methods=["post"])
    def lift(self, request, pk=None):
        """End a freeze now: the changes it held are taken off hold."""
        try:
            conflicts.lift(self.get_object(), request.user)
        except DjangoPermissionDenied as error:
            _refuse(error)
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, description="Default: now."),
            OpenApiParameter("end", OpenApiTypes.DATETIME, description="Default: 30 days on."),
        ],
        responses=OccurrenceSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def occurrences(self, request, pk=None):
        """The window's occurrences in [start, end) (at most a year), in UTC."""
        start = _moment(request.query_params.get("start"), "start") or timezone.now()
        end = _moment(request.query_params.get("end"), "end") or start + timedelta(days=30)
        if end <= start or end - start > timedelta(days=366):
            raise serializers.ValidationError({"end": _("After start, within a year of it.")})
        found = windows.occurrences(self.get_object(), start, end)
        return Response(OccurrenceSerializer(found, many=True).data)


def _moment(raw, name):
    if raw in (None, ""):
        return None
    parsed = parse_datetime(raw)
    if parsed is None:
        raise serializers.ValidationError({name: _("A date and time in ISO 8601.")})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


# Conflicts ----------------------------------------------------------------------------------


class ConflictFilterSet(django_filters.FilterSet):
    change = django_filters.CharFilter(field_name="change__number", help_text=_("A change number."))
    other_change = django_filters.CharFilter(field_name="other_change__number")
    kind = django_filters.MultipleChoiceFilter(choices=Conflict.Kind.choices)
    configuration_item = django_filters.NumberFilter()
    window = django_filters.NumberFilter()

    class Meta:
        model = Conflict
        fields = ["change", "kind"]


@extend_schema_view(
    list=extend_schema(summary="List conflicts (as last detected, both sides)"),
    retrieve=extend_schema(summary="Read a conflict"),
)
class ConflictViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = conflicts.current(
        Conflict.objects.select_related("change", "other_change", "window", "configuration_item")
    )
    serializer_class = ConflictSerializer
    permission_classes = [IsAgent]
    filterset_class = ConflictFilterSet
    ordering = ["-detected_at", "id"]

    def get_queryset(self):
        """The conflicts of the changes the caller may see (under data separation, not
        another team's or customer's)."""
        visible = Change.objects.visible_to(self.request.user)
        queryset = super().get_queryset().filter(change__in=visible.values("pk"))
        return conflicts.seen_by(queryset, self.request.user)


# The scheduling assistant on a change ------------------------------------------------------


class SlotsMixin:
    """``GET /api/v1/changes/{number}/slots/``: the next free slots for the change."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "duration",
                int,
                description="Minutes (default: the planned window's length, else 60).",
            ),
            OpenApiParameter("count", int, description="How many (default 5, at most 50)."),
            OpenApiParameter("horizon_days", int, description="Look this far (default 30)."),
        ],
        responses=SlotSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def slots(self, request, number=None):
        """The next windows where the change could go without conflict: inside its CIs'
        maintenance windows, outside blackouts, clear of changes to the same or related
        CIs."""
        change = self.get_object()
        params = request.query_params
        duration = _whole(params.get("duration"), "duration", 1, 60 * 24 * 14)
        count = _whole(params.get("count"), "count", 1, 50) or 5
        horizon = _whole(params.get("horizon_days"), "horizon_days", 1, 366) or 30
        found = conflicts.next_free_slots(
            change, slot_duration(change, duration), count=count, horizon_days=horizon
        )
        return Response(SlotSerializer(found, many=True).data)


def slot_duration(change: Change, minutes: int | None) -> timedelta:
    if minutes:
        return timedelta(minutes=minutes)
    if change.planned_start and change.planned_end and change.planned_end > change.planned_start:
        return change.planned_end - change.planned_start
    return timedelta(hours=1)


def _whole(raw, name, low, high):
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise serializers.ValidationError(
            {name: gettext("A whole number from %(low)s to %(high)s.") % {"low": low, "high": high}}
        )
    return int(text)
