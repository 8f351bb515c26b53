from django.contrib import admin

from .models import Attachment, JournalEntry, Notification, RecordLink


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "content_type", "object_id", "kind", "actor", "internal")
    list_filter = ("kind", "internal", "content_type")
    readonly_fields = [f.name for f in JournalEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "subject", "status", "attempts")
    list_filter = ("status",)


admin.site.register(Attachment)
admin.site.register(RecordLink)
