from rest_framework import viewsets

from itsm.api.teams import IsAgent
from practices.service_level.filters import TimerFilterSet
from practices.service_level.models import Timer

from .serializers import TimerSerializer


class TimerViewSet(viewsets.ReadOnlyModelViewSet):
    """SLA, OLA and underpinning-contract timers on records (staff only)."""

    queryset = Timer.objects.select_related("content_type", "agreement", "target__calendar")
    serializer_class = TimerSerializer
    permission_classes = [IsAgent]
    filterset_class = TimerFilterSet
    ordering_fields = ["due_at", "started_at", "id"]
    ordering = ["-id"]
