"""Teams (assignment groups), read-only: integrations look up the ids they assign to."""

import django_filters
from rest_framework import viewsets

from itsm.accounts.models import Team
from itsm.api.serializers import ModelSerializer
from itsm.core.filters import FilterSet

from .permissions import IsAgent
from .serializers import UsernameField

__all__ = ["IsAgent", "TeamSerializer", "TeamViewSet"]


class TeamSerializer(ModelSerializer):
    manager = UsernameField(read_only=True)
    members = UsernameField(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "email", "manager", "members", "active"]


class TeamFilterSet(FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    member = django_filters.CharFilter(field_name="members__username")

    class Meta:
        model = Team
        fields = ["active"]


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Team.objects.select_related("manager").prefetch_related("members")
    serializer_class = TeamSerializer
    permission_classes = [IsAgent]
    filterset_class = TeamFilterSet
    ordering_fields = ["name"]
    ordering = ["name"]
