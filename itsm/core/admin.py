"""The kernel's rows in the admin. The audit trail is read-only for everyone, superusers
included: timeline entries are written by the platform only (never added, changed or
deleted here, one by one or in bulk), and attachments, part of that trail (who added
which file to which record), are shown but not edited or deleted. Links between records
are made and removed on the records' pages, which journal them, and the notification
outbox is what the platform sent or will send: both are read here, not edited. The
administrators' group does not hold those rights either (``itsm.accounts.roles.WITHHELD``)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet

from .models import Attachment, JournalEntry, Notification, RecordLink


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows to read, never to add, change or delete (the bulk delete action included:
    without the delete right the admin neither offers it nor runs it)."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST":  # an action (bulk delete) or an edit: nothing to take
            raise PermissionDenied
        return super().changelist_view(request, extra_context)


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "content_type", "object_id", "kind", "actor", "internal")
    list_filter = ("kind", "internal", "content_type")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "filename", "content_type", "object_id", "uploaded_by")
    list_filter = ("internal", "content_type")
    search_fields = ("filename",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recipient", "subject", "status", "attempts")
    list_filter = ("status",)


@admin.register(RecordLink)
class RecordLinkAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "source_type", "source_id", "target_type", "target_id")
    list_filter = ("kind",)


class ApprovalLevelFormSet(BaseInlineFormSet):
    """A policy's levels checked together (``AbstractApprovalLevel.problems``), each
    problem beside its row and field."""

    def clean(self):
        kept = [
            form
            for form in self.forms
            if (form.has_changed() or form.instance.pk)
            and not (self.can_delete and self._should_delete_form(form))
            and form.is_valid()
        ]
        for problem in self.model.problems([form.instance for form in kept]):
            kept[problem.index].add_error(problem.field, problem.message)
        super().clean()


class ApprovalLevelInline(admin.TabularInline):
    """The levels of a practice's approval policy, in the admin of what owns them."""

    formset = ApprovalLevelFormSet
    extra = 0
