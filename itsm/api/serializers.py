import copy

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.core.models import Attachment, JournalEntry, RecordLink
from itsm.core.scoping import scope_related_fields

User = get_user_model()

REQUIRED = _("This field is required.")
#: The same answer for an id that does not exist and one the person may not see.
NO_SUCH_CHOICE = _("Select a valid choice. {pk_value} is not one of the available choices.")


class ScopedChoices:
    """Related fields offer (and accept) only what the request's user may see: the
    browsable API's forms never list other people's records, CIs or users. Refusals read
    as a person reads them: "This field is required." for a blank text, "Select a valid
    choice." for an id that is not among the choices."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        scope_related_fields(fields, getattr(request, "user", None))
        for field in fields.values():
            if isinstance(field, serializers.CharField) and not field.allow_blank:
                field.error_messages["blank"] = REQUIRED
            related = getattr(field, "child_relation", field)
            if isinstance(related, serializers.PrimaryKeyRelatedField):
                related.error_messages["does_not_exist"] = NO_SUCH_CHOICE
        return fields


class Serializer(ScopedChoices, serializers.Serializer):
    pass


class ModelSerializer(ScopedChoices, serializers.ModelSerializer):
    pass


class CleanedModelSerializer(ModelSerializer):
    """A serializer of a configuration row (a change model, a risk rule…): the model's own
    ``clean`` checks the row as it would be saved, and its errors name the fields."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        # Only the row's own columns: many-to-many values and nested rows (a template's
        # tasks) are not the model's to check in ``clean``.
        columns = {f.name for f in model._meta.concrete_fields}
        for name, value in attrs.items():
            if name in columns:
                setattr(candidate, name, value)
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class AllowedStatesField(serializers.Field):
    """A record's ``allowed_states``: the states the reader may move it to now (the
    workflow's transitions they may take from its state)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("The states you may move this record to now."))
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, record) -> list[str]:
        request = self.context.get("request")
        user = request.user if request else None
        return sorted({str(t.target) for t in record.workflow.available(record, user)})


class UsernameField(serializers.SlugRelatedField):
    """A user, written and shown by username."""

    default_error_messages = {"does_not_exist": _("There is no active user {value}.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(**kwargs)


class JournalEntrySerializer(ModelSerializer):
    author = serializers.CharField(source="actor.username", read_only=True, default=None)

    class Meta:
        model = JournalEntry
        fields = ["id", "kind", "internal", "body", "data", "author", "created_at"]
        read_only_fields = fields


class CommentSerializer(ModelSerializer):
    author = serializers.CharField(source="actor.username", read_only=True, default=None)
    body = serializers.CharField(max_length=20000)
    internal = serializers.BooleanField(default=False)

    class Meta:
        model = JournalEntry
        fields = ["id", "body", "internal", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class LinkSerializer(Serializer):
    """A link to another record; ``direction`` says which end this record is."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(
        choices=RecordLink.Kind.choices, default=RecordLink.Kind.RELATES_TO
    )
    target = serializers.CharField(write_only=True, help_text=_("The other record's number."))
    direction = serializers.ChoiceField(choices=["outgoing", "incoming"], read_only=True)
    number = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)

    def to_representation(self, item):
        link, other = item["link"], item["record"]
        return {
            "id": link.pk,
            "kind": link.kind,
            "direction": "outgoing" if item["outgoing"] else "incoming",
            "number": other.number,
            "title": item.get("title", other.title),
            "state": item.get("state", other.state),
        }


class AttachmentSerializer(ModelSerializer):
    file = serializers.FileField(write_only=True)
    internal = serializers.BooleanField(default=False)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True, default=None)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "file",
            "filename",
            "size",
            "mime_type",
            "internal",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = ["id", "filename", "size", "mime_type", "uploaded_by", "created_at"]

    def get_download_url(self, obj) -> str:
        request = self.context.get("request")
        path = f"/api/v1/attachments/{obj.pk}/download/"
        return request.build_absolute_uri(path) if request else path
