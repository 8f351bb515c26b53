from django.contrib import admin

from .models import ConfigurationItem


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(admin.ModelAdmin):
    list_display = ("name", "owner_team", "status")
    list_filter = ("status",)
    search_fields = ("name",)
