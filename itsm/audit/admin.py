"""The audit log in the admin, and every admin change recorded in it.

``AuditEventAdmin``: read-only for everyone, superusers included (nothing is added,
changed or deleted here); administrators read it and download it (CSV or JSON lines).

``install_admin_hooks``: every model admin of every site (ours, Django's, the libraries')
records its additions, changes and deletions as ``admin.added`` / ``admin.changed`` /
``admin.deleted`` with the values before and after (for a change, only what changed;
secrets masked), beside Django's own admin log. One mechanism: the base class's
``get_object`` remembers the row as it was, ``log_addition``/``log_change``/
``log_deletions`` record (a row changed in the list, ``list_editable``, is remembered from
its form's initial values by ``save_form``; the rows of inlines are remembered by
``save_related`` and go into the parent's event as ``details["inlines"]``)."""

from django.contrib import admin
from django.contrib.admin.options import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils.text import get_text_list

from itsm.core.admin import ReadOnlyAdmin

from .exports import EXPORT_FORMATS, ExportRequestForm, stream
from .models import AuditEvent
from .permissions import may_read_audit_log
from .services import record
from .snapshots import difference, initial_values, snapshot

_SNAPSHOTS = "_audit_snapshots"
_INLINES = "_audit_inlines"


def _key(obj):
    return (obj._meta.label_lower, str(obj.pk))


def _message_text(message) -> str:
    """Django's change message as a sentence (it stores a JSON list)."""
    if isinstance(message, list):
        parts = []
        for item in message:
            for verb, data in item.items():
                fields = data.get("fields") if isinstance(data, dict) else None
                name = data.get("name") if isinstance(data, dict) else None
                what = f"{name} {data.get('object', '')}".strip() if name else ""
                if fields:
                    what = f"{what} ({get_text_list(fields, 'and')})".strip()
                parts.append(f"{verb} {what}".strip())
        return "; ".join(parts)
    return str(message or "")


def install_admin_hooks() -> None:
    """Wrap ``ModelAdmin``'s object lookup and logging (once)."""
    if getattr(ModelAdmin, "_audit_hooked", False):
        return
    original_get_object = ModelAdmin.get_object
    original_addition = ModelAdmin.log_addition
    original_change = ModelAdmin.log_change
    original_deletions = ModelAdmin.log_deletions
    original_save_form = ModelAdmin.save_form
    original_save_related = ModelAdmin.save_related

    def get_object(self, request, object_id, from_field=None):
        obj = original_get_object(self, request, object_id, from_field)
        if obj is not None and request.method == "POST":
            request.__dict__.setdefault(_SNAPSHOTS, {})[_key(obj)] = snapshot(obj)
        return obj

    def save_form(self, request, form, change):
        # A row changed in the list (list_editable) was not looked up by get_object: its
        # form's initial values are what the changed fields held.
        instance = getattr(form, "instance", None)
        if change and instance is not None and instance.pk is not None:
            store = request.__dict__.setdefault(_SNAPSHOTS, {})
            if _key(instance) not in store:
                store[_key(instance)] = initial_values(form)
        return original_save_form(self, request, form, change)

    def save_related(self, request, form, formsets, change):
        # The rows of inlines (a category's subcategories…): what each added, changed or
        # deleted one held before and holds after, for the parent's event.
        pending = []
        for formset in formsets or ():
            deleted = set(map(id, getattr(formset, "deleted_forms", ())))
            for inline in formset.forms:
                instance = inline.instance
                if id(inline) in deleted:
                    if instance.pk is not None:
                        pending.append(("deleted", instance, str(instance.pk), snapshot(instance)))
                elif inline.has_changed():
                    if instance.pk is not None and inline in formset.initial_forms:
                        pending.append(("changed", instance, None, initial_values(inline)))
                    else:
                        pending.append(("added", instance, None, None))
        result = original_save_related(self, request, form, formsets, change)
        rows = []
        for kind, instance, pk, before in pending:
            after = None if kind == "deleted" else snapshot(instance)
            if kind == "changed":
                after = {name: after.get(name) for name in before}
            rows.append(
                {
                    "change": kind,
                    "model": instance._meta.label_lower,
                    "id": pk or str(instance.pk),
                    "before": before,
                    "after": after,
                }
            )
        if rows:
            request.__dict__.setdefault(_INLINES, {})[_key(form.instance)] = rows
        return result

    def _inlines(request, obj) -> dict:
        rows = request.__dict__.get(_INLINES, {}).pop(_key(obj), None)
        return {"inlines": rows} if rows else {}

    def log_addition(self, request, obj, message):
        entry = original_addition(self, request, obj, message)
        record(
            "admin.added",
            actor=request.user,
            target=obj,
            request=request,
            after=snapshot(obj),
            model=obj._meta.label_lower,
            message=_message_text(message),
            **_inlines(request, obj),
        )
        return entry

    def log_change(self, request, obj, message):
        entry = original_change(self, request, obj, message)
        was = request.__dict__.get(_SNAPSHOTS, {}).pop(_key(obj), None)
        now = snapshot(obj)
        before, after = difference(was, now) if was is not None else (None, now)
        record(
            "admin.changed",
            actor=request.user,
            target=obj,
            request=request,
            before=before,
            after=after,
            model=obj._meta.label_lower,
            message=_message_text(message),
            **_inlines(request, obj),
        )
        return entry

    def log_deletions(self, request, queryset):
        entries = original_deletions(self, request, queryset)
        for obj in queryset:
            record(
                "admin.deleted",
                actor=request.user,
                target=obj,
                request=request,
                before=snapshot(obj),
                model=obj._meta.label_lower,
            )
        return entries

    ModelAdmin.get_object = get_object
    ModelAdmin.save_form = save_form
    ModelAdmin.save_related = save_related
    ModelAdmin.log_addition = log_addition
    ModelAdmin.log_change = log_change
    ModelAdmin.log_deletions = log_deletions
    ModelAdmin._audit_hooked = True


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "at", "action", "actor_username", "target_repr", "client_address")
    list_filter = ("action",)
    search_fields = ("action", "actor_username", "target_repr", "target_id")
    date_hierarchy = "at"
    show_full_result_count = False
    change_list_template = "admin/audit/auditevent/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "id"]

    def has_module_permission(self, request):
        return may_read_audit_log(request.user)

    def has_view_permission(self, request, obj=None):
        return may_read_audit_log(request.user)

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="audit_auditevent_export",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "export_formats": EXPORT_FORMATS}
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        """``GET …/export/?format=csv|jsonl&since=…&until=…``: the events as a download."""
        if not may_read_audit_log(request.user):
            raise PermissionDenied
        form = ExportRequestForm(request.GET or {"format": "csv"})
        if not form.is_valid():
            from django.http import JsonResponse

            return JsonResponse({"errors": form.errors}, status=400)
        data = form.cleaned_data
        record(
            "audit.exported",
            actor=request.user,
            request=request,
            format=data["format"],
            since=data["since"],
            until=data["until"],
        )
        content_type, body = stream(data["format"], data["since"], data["until"])
        response = StreamingHttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="audit-events.{data["format"]}"'
        return response
