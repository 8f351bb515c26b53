"""API tokens and service accounts in the admin: tokens are listed by their prefix, never
their secret (only its hash is kept); administrators revoke them (an action), they are
made by their owners (``/me/tokens/``, the API) or ``manage.py service_account``."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import tokens
from .models import ApiToken, ServiceAccount


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "name",
        "user",
        "scopes",
        "expires_at",
        "last_used_at",
        "last_used_from",
        "revoked_at",
    )
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user",)
    fields = (
        "prefix",
        "name",
        "user",
        "scopes",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "last_used_from",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # revoked, not deleted, on these pages (who and when stay); a person's deletion
        # takes their tokens with them
        match = getattr(request, "resolver_match", None)
        if match is None or (match.url_name or "").startswith("api_apitoken_"):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # the revoke action stays although nobody may "change" a token in the admin
        actions = super().get_actions(request)
        if not request.user.has_perm("api.change_apitoken") and not request.user.is_superuser:
            actions.pop("revoke", None)
        return actions

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = sum(
            tokens.revoke(token, by=request.user, request=request, reason="by an administrator")
            for token in queryset.select_related("user")
        )
        messages.success(
            request,
            ngettext("%(count)s token revoked.", "%(count)s tokens revoked.", count)
            % {"count": count},
        )


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    """Programs' accounts (pipelines, monitoring): ``manage.py service_account <name>
    --scopes …`` makes one and prints a token; their tokens are under API tokens."""

    list_display = ("user", "owner", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("user__username", "description")
    raw_id_fields = ("user", "owner")
    list_select_related = ("user", "owner")
