"""The service catalogue for three audiences: what users may request (``view=user``), what
customers see — service levels and how they were met (``view=customer``) — and what IT sees
(``view=it``: type, owners, support, status, the whole portfolio)."""

from datetime import timedelta

import django_filters
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError

from catalogue.models import CatalogueItem, Service, ServiceOffering
from itsm.api.serializers import ModelSerializer
from itsm.core.filters import FilterSet
from practices.service_level.models import Agreement, Timer

VIEWS = ("user", "customer", "it")


class OfferingSerializer(ModelSerializer):
    agreement = serializers.CharField(source="agreement.name", default=None)

    class Meta:
        model = ServiceOffering
        fields = ["name", "description", "agreement"]


class ItemBriefSerializer(ModelSerializer):
    class Meta:
        model = CatalogueItem
        fields = ["id", "name", "short_description"]


class AgreementBriefSerializer(ModelSerializer):
    targets = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = ["name", "kind", "targets"]

    def get_targets(self, agreement) -> list[dict]:
        return [
            {
                "name": t.name,
                "metric": t.metric,
                "seconds": int(t.duration.total_seconds()),
                "calendar": t.calendar.name,
            }
            for t in agreement.targets.all()
        ]


class UserServiceSerializer(ModelSerializer):
    description = serializers.CharField(source="user_description")
    offerings = OfferingSerializer(many=True, source="active_offerings")
    items = ItemBriefSerializer(
        many=True, source="orderable_items", help_text=_("What you may request.")
    )

    class Meta:
        model = Service
        fields = ["id", "name", "description", "offerings", "items"]


class CustomerServiceSerializer(UserServiceSerializer):
    agreements = AgreementBriefSerializer(many=True)
    met_last_30_days = serializers.SerializerMethodField(
        help_text=_("Share of SLA targets met among those that stopped in the last 30 days.")
    )
    stopped_last_30_days = serializers.IntegerField(source="stopped_30d")

    class Meta(UserServiceSerializer.Meta):
        fields = [
            *UserServiceSerializer.Meta.fields,
            "agreements",
            "met_last_30_days",
            "stopped_last_30_days",
        ]

    def get_met_last_30_days(self, service) -> float | None:
        return (
            round(100 * service.met_30d / service.stopped_30d, 1) if service.stopped_30d else None
        )


class ITServiceSerializer(CustomerServiceSerializer):
    it_description = serializers.CharField(source="description")
    owner = serializers.CharField(source="owner.username", default=None)
    owner_team = serializers.CharField(source="owner_team.name", default=None)
    support_team = serializers.CharField(source="support_team.name", default=None)

    class Meta(CustomerServiceSerializer.Meta):
        fields = [
            *CustomerServiceSerializer.Meta.fields,
            "it_description",
            "type",
            "status",
            "owner",
            "owner_team",
            "support_team",
        ]


class ServiceFilterSet(FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Service
        fields = ["status", "type"]


def _timer_count(**filters):
    since = timezone.now() - timedelta(days=30)
    rows = (
        Timer.objects.filter(
            service=OuterRef("pk"), stopped_at__gte=since, agreement__kind="sla", **filters
        )
        .exclude(state=Timer.State.CANCELLED)
        .order_by()
        .values("service")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(rows)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "view",
            str,
            enum=list(VIEWS),
            description="Audience: user (default), customer or it (staff).",
        )
    ]
)
class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = ServiceFilterSet
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def audience(self) -> str:
        view = self.request.query_params.get("view", "user")
        if view not in VIEWS:
            raise ValidationError(
                {"view": gettext("One of: %(values)s.") % {"values": ", ".join(VIEWS)}}
            )
        if view == "it" and not self.request.user.is_agent:
            raise PermissionDenied(gettext("The IT view is for staff."))
        return view

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):
            return ITServiceSerializer
        return {
            "user": UserServiceSerializer,
            "customer": CustomerServiceSerializer,
            "it": ITServiceSerializer,
        }[self.audience()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Service.objects.none()
        view = self.audience()
        user = self.request.user
        queryset = Service.objects.prefetch_related(
            Prefetch(
                "offerings",
                queryset=ServiceOffering.objects.filter(active=True).select_related("agreement"),
                to_attr="active_offerings",
            ),
            Prefetch(
                "catalogue_items",
                queryset=CatalogueItem.objects.orderable_by(user).order_by("order", "name"),
                to_attr="orderable_items",
            ),
        )
        if view != "it":
            queryset = queryset.filter(status=Service.Status.LIVE)
        if view in ("customer", "it"):
            queryset = queryset.prefetch_related("agreements__targets__calendar").annotate(
                stopped_30d=Coalesce(_timer_count(), 0),
                met_30d=Coalesce(_timer_count(state=Timer.State.MET), 0),
            )
        if view == "it":
            queryset = queryset.select_related("owner", "owner_team", "support_team")
        return queryset
