from django.contrib import admin

from itsm.audit.services import record

from .models import BreakGlassAccount, GroupMapping


@admin.register(GroupMapping)
class GroupMappingAdmin(admin.ModelAdmin):
    list_display = ("external_group", "source", "role", "team")
    list_filter = ("source", "role", "team")
    search_fields = ("external_group", "team__name")
    autocomplete_fields = ("team",)


@admin.register(BreakGlassAccount)
class BreakGlassAccountAdmin(admin.ModelAdmin):
    """Who may still sign in with a local password when sign-in is SSO only; granting and
    taking back are audited."""

    list_display = ("user", "reason", "created_at", "last_used_at")
    search_fields = ("user__username", "user__email")
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            "sso.break_glass_granted",
            actor=request.user,
            target=obj.user,
            request=request,
            reason=obj.reason,
        )

    def delete_model(self, request, obj):
        record("sso.break_glass_revoked", actor=request.user, target=obj.user, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user"):
            record("sso.break_glass_revoked", actor=request.user, target=obj.user, request=request)
        super().delete_queryset(request, queryset)
