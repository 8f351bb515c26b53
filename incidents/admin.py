from django.contrib import admin

from .models import Category, Incident, PriorityRule


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    """The impact x urgency matrix; changes apply to incidents from their next update."""

    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)
    list_display_links = None


class SubcategoryInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    extra = 1
    fields = ("name", "active")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    inlines = [SubcategoryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-only here: incidents change only through the workspace and the API, so that
    the workflow, the journal and notifications always apply."""

    list_display = ("number", "title", "state", "priority", "assignment_group", "assigned_to")
    list_filter = ("state", "priority", "major")
    search_fields = ("number", "title")
    list_select_related = ("assignment_group", "assigned_to")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
