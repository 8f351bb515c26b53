"""``/api/v1/audit/events/``: the audit log for administrators, read-only (a POST, PATCH,
PUT or DELETE is a 405), newest first, keyset-paginated like every list; filters by
action, actor, target and period."""

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, serializers, viewsets
from rest_framework.routers import SimpleRouter

from itsm.core.filters import DateTimeFilter, FilterSet

from .exports import COLUMNS
from .models import AuditEvent
from .permissions import may_read_audit_log


class IsAuditReader(permissions.BasePermission):
    """Administrators only (``itsm.audit.permissions``)."""

    def has_permission(self, request, view):
        return may_read_audit_log(request.user)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AuditEvent
        # The export's columns, the actor by the username kept with the event.
        fields = [("actor" if c == "actor_username" else c) for c in COLUMNS]
        read_only_fields = fields


class AuditEventFilterSet(FilterSet):
    action = django_filters.CharFilter(help_text=_("An action (`auth.sign_in`), exactly."))
    action_prefix = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", help_text=_("`auth.`, `role.`, `admin.`…")
    )
    actor = django_filters.CharFilter(field_name="actor_username", help_text=_("A username."))
    target_type = django_filters.CharFilter(help_text=_("`app_label.model`, e.g. `accounts.user`."))
    target_id = django_filters.CharFilter()
    since = DateTimeFilter(field_name="at", lookup_expr="gte")
    until = DateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = []


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    permission_classes = [IsAuditReader]
    filterset_class = AuditEventFilterSet
    lookup_field = "sequence"
    ordering_fields = ["sequence"]
    ordering = ["-sequence"]


router = SimpleRouter()
router.register("audit/events", AuditEventViewSet, basename="audit-event")
urlpatterns = router.urls
