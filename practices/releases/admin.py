from django.contrib import admin

from .models import Release


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    """Read-only in the admin: releases are planned and moved on their own screens."""

    list_display = ("number", "title", "release_version", "release_type", "state")
    list_filter = ("state", "release_type")
    search_fields = ("number", "title", "release_version")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
