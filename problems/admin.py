from django.contrib import admin

from .models import Cause, Problem, WorkaroundUse


class CauseInline(admin.TabularInline):
    model = Cause
    extra = 0
    fields = ("dimension", "description", "is_root_cause")
    readonly_fields = fields
    can_delete = False


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    """Read-only here: problems change only through the workspace and the API, so that the
    workflow and the journal always apply."""

    list_display = ("number", "title", "state", "priority", "assignment_group", "assigned_to")
    list_filter = ("state", "priority", "workaround_public")
    search_fields = ("number", "title")
    list_select_related = ("assignment_group", "assigned_to")
    inlines = [CauseInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkaroundUse)
class WorkaroundUseAdmin(admin.ModelAdmin):
    list_display = ("problem", "incident", "used_by", "used_at", "effectiveness")
    list_select_related = ("problem", "incident", "used_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
