"""Admin screens for reference data (suppliers) and a read-mostly view of the register.
Lifecycle moves and reminders are not made here: they go through the workspace and API."""

from django.contrib import admin

from .models import Asset, Contract, ContractReminder, Licence, Supplier


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "contact", "email", "phone", "website")
    search_fields = ("name", "contact", "email")


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("asset_tag", "model", "state", "assigned_to", "location", "warranty_end")
    list_filter = ("state", "location", "vendor")
    search_fields = ("asset_tag", "serial_number", "model")
    list_select_related = ("assigned_to", "location")
    raw_id_fields = ("assigned_to", "configuration_item")

    # Changes to an asset go through the services (history, lifecycle checks).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("reference", "kind", "supplier", "start_date", "end_date", "renewal_date")
    list_filter = ("kind", "supplier")
    search_fields = ("reference", "supplier__name")
    list_select_related = ("supplier",)
    raw_id_fields = ("owner",)
    filter_horizontal = ("assets", "configuration_items")


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    list_display = ("software", "quantity", "metric", "valid_from", "valid_until", "contract")
    list_select_related = ("software", "contract")
    raw_id_fields = ("software", "contract")


@admin.register(ContractReminder)
class ContractReminderAdmin(admin.ModelAdmin):
    list_display = ("contract", "event", "due_date", "recipient", "sent_at")
    list_select_related = ("contract__supplier", "recipient")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
