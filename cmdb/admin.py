"""Administrators define the CMDB's shape here: classes and their attributes,
relationship types and data sources. CIs themselves are edited in the workspace (where
every change is checked and kept in the history), so the admin only shows them."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import (
    AttributeDefinition,
    CIClass,
    ConfigurationItem,
    DataSource,
    ImportRun,
    RelationshipType,
)


class AttributeDefinitionFormSet(BaseInlineFormSet):
    def clean(self):
        """An attribute CIs hold values for is not deleted (the form says so instead)."""
        super().clean()
        for form in self.deleted_forms:
            definition = form.instance
            if definition.pk and definition.holders():
                holders = definition.holders()
                raise ValidationError(
                    ngettext(
                        "%(count)d CI holds a value for %(key)s; clear it before removing it.",
                        "%(count)d CIs hold a value for %(key)s; clear them before removing it.",
                        holders,
                    )
                    % {"count": holders, "key": definition.key}
                )


class AttributeDefinitionInline(admin.TabularInline):
    model = AttributeDefinition
    formset = AttributeDefinitionFormSet
    extra = 1
    fields = ("order", "key", "label", "type", "required", "unique", "choices", "help_text")


@admin.register(CIClass)
class CIClassAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "parent", "is_service", "is_hardware", "is_software")
    list_filter = ("is_service", "is_hardware", "is_software")
    search_fields = ("name", "key")
    inlines = [AttributeDefinitionInline]
    fieldsets = (
        (None, {"fields": ("name", "key", "parent", "description")}),
        (
            _("Identification and kind"),
            {
                "fields": ("identification_rules", "is_service", "is_hardware", "is_software"),
                "description": _(
                    'Identification rules: a list of attribute-key lists, e.g. [["serial_number"], '
                    '["hostname", "domain"]]. An import matches a CI when one rule\'s values are '
                    "equal. Subclasses inherit the rules and attributes."
                ),
            },
        ),
    )


@admin.register(RelationshipType)
class RelationshipTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "reverse_name", "key", "outage_spreads")


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "key")


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(admin.ModelAdmin):
    list_display = ("name", "ci_class", "status", "environment", "owner_team")
    list_filter = ("ci_class", "status", "environment")
    search_fields = ("name",)
    list_select_related = ("ci_class", "owner_team")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("data_source", "status", "started_at", "created", "updated", "failed")
    list_filter = ("status", "data_source")
    exclude = ("payload",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
