from django.contrib import admin

from .models import CatalogueCategory, CatalogueItem, Service, Variable


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "owner_team", "status")
    list_filter = ("status",)
    search_fields = ("name",)


@admin.register(CatalogueCategory)
class CatalogueCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "order")
    list_editable = ("order",)


class VariableInline(admin.StackedInline):
    model = Variable
    extra = 0
    fields = (
        ("name", "label", "type", "required", "order"),
        ("help_text", "default"),
        ("choices",),
        ("regex", "min_length", "max_length", "min_value", "max_value"),
        ("show_when", "require_when"),
    )


@admin.register(CatalogueItem)
class CatalogueItemAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "service", "audience", "active", "order")
    list_filter = ("category", "active", "audience")
    search_fields = ("name", "short_description")
    filter_horizontal = ("organizations",)
    inlines = [VariableInline]
