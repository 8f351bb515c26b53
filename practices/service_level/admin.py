from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from .admin_forms import AgreementAdminForm
from .models import (
    Agreement,
    BusinessCalendar,
    ClosedDay,
    Escalation,
    Target,
    Threshold,
    Timer,
    WorkingPeriod,
)


class WorkingPeriodFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        if not self.instance.always_open and not kept:
            raise ValidationError(_("A calendar that is not 24x7 needs working hours."))


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    formset = WorkingPeriodFormSet
    extra = 0


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "always_open", "holiday_country", "holiday_subdivision")
    inlines = [WorkingPeriodInline, ClosedDayInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Hours or closed days changed: calendars cached by workers must be rebuilt.
        form.instance.touch()


class AgreementRowsInline:
    """Rows of an agreement: their titles name it, read with them (not once per row)."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agreement")


class TargetInline(AgreementRowsInline, admin.TabularInline):
    model = Target
    extra = 0


class ThresholdInline(AgreementRowsInline, admin.TabularInline):
    model = Threshold
    extra = 0
    # One line for the addresses: a text area made the table wider than the page.
    formfield_overrides = {
        Threshold._meta.get_field("notify_addresses").__class__: {
            "widget": forms.TextInput(attrs={"size": 30})
        }
    }


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    """Conditions are edited as rows (``admin_forms``); the JSON stays available under
    "Advanced (JSON)" and over the API."""

    form = AgreementAdminForm
    list_display = (
        "name",
        "kind",
        "record_type",
        "order",
        "priorities",
        "service",
        "team",
        "active",
    )
    list_filter = ("kind", "active", "record_type")
    list_editable = ("order", "active")
    list_select_related = ("record_type", "service", "team")
    inlines = [TargetInline, ThresholdInline]
    fieldsets = (
        (None, {"fields": ("name", "kind", "record_type", "order", "active", "description")}),
        (
            _("Applies to"),
            {"fields": ("priorities", "service", "organization", "team", "supplier", "conditions")},
        ),
        (_("Clock"), {"fields": ("pause_when", "run_when", "on_priority_change")}),
    )


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin):
    """Timers are run by the platform; here they are for reading."""

    list_display = ("record_number", "name", "state", "breached", "due_at", "team", "priority")
    list_filter = ("state", "breached", "metric")
    search_fields = ("record_number",)
    list_select_related = ("team",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ("timer", "threshold", "state", "due_at", "done_at", "attempts")
    list_filter = ("state",)
    list_select_related = ("timer", "threshold__agreement")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
