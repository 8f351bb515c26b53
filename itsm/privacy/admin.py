"""Privacy in the admin, for administrators only: retention rules, legal holds, the
erasures done, and people's data (export one person's, erase one after a confirmation)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from . import services
from .models import Erasure, LegalHold, Person, RetentionRule
from .retention import record_type_choices
from .views import export_response


class AdministratorsOnly(admin.ModelAdmin):
    """Administrators (the role, or a superuser) only, whatever group rights exist."""

    def has_module_permission(self, request):
        return services.is_administrator(request.user)

    def has_view_permission(self, request, obj=None):
        return services.is_administrator(request.user)

    def has_add_permission(self, request):
        return services.is_administrator(request.user)

    def has_change_permission(self, request, obj=None):
        return services.is_administrator(request.user)

    def has_delete_permission(self, request, obj=None):
        return services.is_administrator(request.user)


@admin.register(RetentionRule)
class RetentionRuleAdmin(AdministratorsOnly):
    list_display = ("__str__", "record_type", "closed_for_years", "action", "active")
    list_filter = ("action", "active")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "record_type":
            from django.contrib.contenttypes.models import ContentType

            kwargs["queryset"] = ContentType.objects.filter(record_type_choices())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(LegalHold)
class LegalHoldAdmin(AdministratorsOnly):
    list_display = ("__str__", "reason", "placed_by", "placed_at", "released_at")
    list_filter = ("released_at",)
    fields = ("person", "content_type", "object_id", "reason", "placed_by", "placed_at")
    readonly_fields = ("placed_by", "placed_at")
    raw_id_fields = ("person",)
    actions = ["release"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # what is held and why stay as placed; a hold is released
            return ("person", "content_type", "object_id", "reason", "placed_by", "placed_at")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # released, never deleted: the hold's history stays

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "content_type":
            from django.contrib.contenttypes.models import ContentType

            kwargs["queryset"] = ContentType.objects.filter(record_type_choices(closed=False))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.placed_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Release the selected holds")
    def release(self, request, queryset):
        released = queryset.filter(released_at__isnull=True).update(
            released_at=timezone.now(), released_by=request.user
        )
        self.message_user(request, f"{released} hold(s) released.")


@admin.register(Erasure)
class ErasureAdmin(AdministratorsOnly):
    list_display = ("person", "erased_at", "erased_by", "reason")
    readonly_fields = ("person", "erased_at", "erased_by", "reason", "counts")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(AdministratorsOnly):
    """People listed for their data: export one's, erase one's (never edited here: the
    users' own admin does that)."""

    list_display = ("username", "first_name", "last_name", "email", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    actions = ["export_data", "erase_data"]
    fields = ("username", "first_name", "last_name", "email", "role", "is_active")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_view),
                name="privacy_person_export",
            ),
            path(
                "<int:pk>/erase/",
                self.admin_site.admin_view(self.erase_view),
                name="privacy_person_erase",
            ),
            *super().get_urls(),
        ]

    def _one(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one person.", messages.WARNING)
            return None
        return queryset.first()

    @admin.action(description="Export the person's data (JSON)")
    def export_data(self, request, queryset):
        person = self._one(request, queryset)
        if person is not None:
            return redirect("admin:privacy_person_export", person.pk)
        return None

    @admin.action(description="Erase the person's data…")
    def erase_data(self, request, queryset):
        person = self._one(request, queryset)
        if person is not None:
            return redirect("admin:privacy_person_erase", person.pk)
        return None

    def export_view(self, request, pk):
        if not services.is_administrator(request.user):
            raise PermissionDenied
        person = get_object_or_404(Person, pk=pk)
        return export_response(person, request.user)

    def erase_view(self, request, pk):
        if not services.is_administrator(request.user):
            raise PermissionDenied
        person = get_object_or_404(Person, pk=pk)
        error = ""
        if request.method == "POST":
            reason = request.POST.get("reason", "").strip()
            if request.POST.get("confirm") != person.username:
                error = "Type the username to confirm."
            elif not reason:
                error = "Say why (the request it answers)."
            else:
                try:
                    result = services.erase(person, request.user, reason=reason, request=request)
                except ValidationError as refused:
                    error = " ".join(refused.messages)
                else:
                    text = (
                        f"The data of person #{person.pk} was erased; they are now "
                        f"{result.person.username}."
                        if result.erased
                        else f"Person #{person.pk} had been erased already; nothing changed."
                    )
                    self.message_user(request, text)
                    return redirect(reverse("admin:privacy_person_changelist"))
        already = Erasure.objects.filter(person=person).exists()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "person": person,
            "error": error,
            "already": already,
            "title": f"Erase the data of {person.username}",
        }
        return TemplateResponse(
            request, "privacy/admin_erase.html", context, status=400 if error else 200
        )
