from django.contrib import admin

from itsm.core import admin as core_admin

from .admin_forms import (
    ApprovalLevelAdminForm,
    VariableAdminForm,
    VariableFormSet,
)
from .models import (
    ApprovalLevel,
    CatalogueCategory,
    CatalogueItem,
    Service,
    ServiceOffering,
    ServiceRequest,
    TaskTemplate,
    Variable,
)


class ServiceOfferingInline(admin.TabularInline):
    model = ServiceOffering
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "status", "owner", "owner_team", "support_team")
    list_filter = ("status", "type")
    search_fields = ("name",)
    filter_horizontal = ("agreements",)
    inlines = [ServiceOfferingInline]


@admin.register(CatalogueCategory)
class CatalogueCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "order")
    list_editable = ("order",)


class ItemRowsInline:
    """Rows of an item: their titles name the item, read with them (not once per row)."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item")


class VariableInline(ItemRowsInline, admin.StackedInline):
    """Questions: choices, conditions and defaults as rows (``admin_forms``), checked
    together; the JSON stays under "Advanced (JSON)"."""

    model = Variable
    form = VariableAdminForm
    formset = VariableFormSet
    extra = 0
    fields = (
        ("name", "label", "type", "required", "order"),
        ("help_text", "default"),
        "choices",
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


class ApprovalLevelInline(ItemRowsInline, core_admin.ApprovalLevelInline):
    """The item's approval policy: the kernel's levels, decided in order, checked
    together (each level once, a team only where a team approves, someone in it)."""

    model = ApprovalLevel
    form = ApprovalLevelAdminForm


class TaskTemplateInline(ItemRowsInline, admin.TabularInline):
    model = TaskTemplate
    extra = 0


CatalogueItemAdmin.inlines = [VariableInline, ApprovalLevelInline, TaskTemplateInline]


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    """Read-only here: requests move through approvals and fulfilment by the services."""

    list_display = ("number", "item", "requested_for", "state", "created_at")
    list_filter = ("state",)
    search_fields = ("number",)
    list_select_related = ("item", "requested_for")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
