"""Privacy in the admin, for administrators only: retention rules, legal holds, the
erasures done, and people's data (export one person's, erase one after a confirmation)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Erasure, LegalHold, Person, RetentionRule
from .retention import record_type_choices, record_types
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
            kwargs["queryset"] = ContentType.objects.filter(record_type_choices())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class LegalHoldForm(forms.ModelForm):
    """A hold on a person (picked by id) or on a record (typed by its number)."""

    record_number = forms.CharField(
        required=False,
        max_length=20,
        help_text=_("The number of the record held (INC0001001, REQ0001002…)."),
    )

    class Meta:
        model = LegalHold
        fields = ("person", "reason")

    def clean(self):
        cleaned = super().clean()
        number = (cleaned.get("record_number") or "").strip().upper()
        if bool(number) == bool(cleaned.get("person")):
            raise ValidationError(_("Hold one person or one record (its number), not both."))
        if number:
            record = find_record(number)
            if record is None:
                self.add_error("record_number", _("No record has this number."))
            else:
                self.instance.content_type = ContentType.objects.get_for_model(record)
                self.instance.object_id = record.pk
        return cleaned


def find_record(number: str):
    """The record with this number, whatever its type (each type has its own prefix)."""
    for model in record_types():
        prefix = getattr(model, "NUMBER_PREFIX", "")
        if prefix and number.startswith(prefix):
            found = model._default_manager.filter(number=number).first()
            if found is not None:
                return found
    return None


@admin.register(LegalHold)
class LegalHoldAdmin(AdministratorsOnly):
    form = LegalHoldForm
    list_display = ("__str__", "reason", "placed_by", "placed_at", "released_at")
    list_filter = ("released_at",)
    raw_id_fields = ("person",)
    actions = ["release"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("person", "record_number", "reason")
        return ("held", "reason", "placed_by", "placed_at", "released_at", "released_by")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # what is held and why stay as placed; a hold is released
            return self.get_fields(request, obj)
        return ()

    @admin.display(description=_("Held"))
    def held(self, obj):
        if obj.person_id:
            return gettext("person #%(id)s (%(person)s)") % {
                "id": obj.person_id,
                "person": obj.person,
            }
        return obj.record_label

    def has_delete_permission(self, request, obj=None):
        return False  # released, never deleted: the hold's history stays

    def save_model(self, request, obj, form, change):
        if not change:
            obj.placed_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Release the selected holds"))
    def release(self, request, queryset):
        released = queryset.filter(released_at__isnull=True).update(
            released_at=timezone.now(), released_by=request.user
        )
        self.message_user(
            request,
            ngettext("%(count)s hold released.", "%(count)s holds released.", released)
            % {"count": released},
        )


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
            self.message_user(request, _("Choose one person."), messages.WARNING)
            return None
        return queryset.first()

    @admin.action(description=_("Export the person's data (JSON)"))
    def export_data(self, request, queryset):
        person = self._one(request, queryset)
        if person is not None:
            return redirect("admin:privacy_person_export", person.pk)
        return None

    @admin.action(description=_("Erase the person's data…"))
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
                error = gettext("Type the username to confirm.")
            elif not reason:
                error = gettext("Say why (the request it answers).")
            else:
                try:
                    result = services.erase(person, request.user, reason=reason, request=request)
                except ValidationError as refused:
                    error = " ".join(refused.messages)
                else:
                    text = (
                        gettext("The data of person #%(id)s was erased; they are now %(username)s.")
                        % {"id": person.pk, "username": result.person.username}
                        if result.erased
                        else gettext("Person #%(id)s had been erased already; nothing changed.")
                        % {"id": person.pk}
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
            "title": gettext("Erase the data of %(username)s") % {"username": person.username},
        }
        return TemplateResponse(
            request, "privacy/admin_erase.html", context, status=400 if error else 200
        )
