from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Location, Organization, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "organization", "vip")
    list_filter = ("role", "organization", "vip", "is_active")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("Service management"),
            {
                "fields": (
                    "role",
                    "time_zone",
                    "language",
                    "organization",
                    "location",
                    "phone",
                    "vip",
                ),
                "description": _(
                    "The role is the person's primary role (its group); additional "
                    "roles (problem manager, knowledge reviewer) are the groups above."
                ),
            },
        ),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "active")
    search_fields = ("name",)
    filter_horizontal = ("members", "organizations")


admin.site.register(Organization)
admin.site.register(Location)
