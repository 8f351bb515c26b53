from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from itsm.api.serializers import ModelSerializer
from practices.service_level import services
from practices.service_level.models import Agreement, Timer


class AudienceTimers(serializers.ListSerializer):
    """A record's timers as its reader may see them: staff every agreement's, anyone else
    only the customer SLA's (OLAs and underpinning contracts are internal)."""

    def to_representation(self, data):
        timers = data.all() if hasattr(data, "all") else data
        request = self.context.get("request")
        if not getattr(getattr(request, "user", None), "is_agent", False):
            timers = [t for t in timers if t.agreement.kind == Agreement.Kind.SLA]
        return super().to_representation(timers)


class TimerSummarySerializer(ModelSerializer):
    """A timer as records show it (the ``sla`` list of an incident)."""

    target = serializers.CharField(source="metric", help_text=_("response or resolution"))
    agreement = serializers.CharField(source="agreement.name")
    kind = serializers.CharField(source="agreement.kind", help_text=_("sla, ola or uc"))
    business_seconds_left = serializers.SerializerMethodField()

    class Meta:
        model = Timer
        fields = [
            "name",
            "agreement",
            "kind",
            "target",
            "due_at",
            "state",
            "breached",
            "business_seconds_left",
        ]
        list_serializer_class = AudienceTimers

    def get_business_seconds_left(self, timer) -> int:
        return round(services.seconds_left(timer, self.context.get("now") or timezone.now()))


class TimerSerializer(TimerSummarySerializer):
    record_type = serializers.CharField(source="content_type.model")
    agreement = serializers.CharField(source="agreement.name")
    kind = serializers.CharField(source="agreement.kind")
    business_seconds_elapsed = serializers.SerializerMethodField()

    class Meta:
        model = Timer
        fields = [
            "id",
            "record_type",
            "record_number",
            "agreement",
            "kind",
            "name",
            "target",
            "state",
            "breached",
            "started_at",
            "due_at",
            "stopped_at",
            "breached_at",
            "breach_reason",
            "business_seconds_elapsed",
            "business_seconds_left",
            "paused_seconds",
            "team",
            "priority",
        ]

    def get_business_seconds_elapsed(self, timer) -> int:
        return round(services.elapsed(timer, self.context.get("now") or timezone.now()))
