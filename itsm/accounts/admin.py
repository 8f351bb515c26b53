from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from rest_framework.authtoken.admin import TokenAdmin as DRFTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from .models import Location, Organization, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "organization", "vip")
    list_filter = ("role", "organization", "vip", "is_active")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Service management",
            {"fields": ("role", "time_zone", "organization", "location", "phone", "vip")},
        ),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "active")
    search_fields = ("name",)
    filter_horizontal = ("members",)


admin.site.register(Organization)
admin.site.register(Location)


# API tokens: never shown in clear after they are made. DRF's own admin lists every key
# (and names each token by its key on its pages and in the admin's history), so it is
# replaced by one that shows a prefix and gives the key once, when it is created.
TokenProxy.__str__ = lambda self: f"Token {self.key[:6]}… of {self.user}"


def token_prefix(token) -> str:
    return f"{token.key[:6]}…"


token_prefix.short_description = "Token"


if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(DRFTokenAdmin):
    list_display = (token_prefix, "user", "created")
    fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj else ()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(
                request,
                f"The new token of {obj.user} is {obj.key} . Copy it now: it is not shown again.",
            )
