from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext

from .admin_forms import PriorityMatrixForm
from .models import Category, Incident, Level, PriorityRule


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    """The impact x urgency matrix, edited as one grid; changes apply to incidents from
    their next update. Every cell always exists, so there is nothing to add or delete."""

    list_display = ("impact", "urgency", "priority")
    list_display_links = None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        editable = self.has_change_permission(request)
        if request.method == "POST":
            if not editable:
                raise PermissionDenied
            form = PriorityMatrixForm(request.POST)
            if form.is_valid():
                changed = form.save()
                text = (
                    gettext("Priority changed for %(cells)s.") % {"cells": ", ".join(changed)}
                    if changed
                    else gettext("No change.")
                )
                self.message_user(request, text, messages.SUCCESS)
                return redirect(request.path)
        else:
            form = PriorityMatrixForm()
        if not editable:
            for field in form.fields.values():
                field.disabled = True
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Priority matrix"),
            "form": form,
            "urgencies": list(Level),
            "editable": editable,
            "media": self.media,
            **(extra_context or {}),
        }
        # Reached with a post: the grid had errors.
        status = 400 if form.is_bound else 200
        return TemplateResponse(
            request, "admin/builders/priority_matrix.html", context, status=status
        )


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
