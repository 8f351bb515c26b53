"""Forms of the CMDB screens. A CI form has the common fields and one field per attribute
definition of the CI's class (its own and its ancestors'), typed by the definition."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.accounts.models import Location, Team
from itsm.core.forms import EditInPlace, overlay
from itsm.core.widgets import DateInput, Picker

from .attributes import ClassSchema
from .models import (
    AttributeDefinition,
    ConfigurationItem,
    DataSource,
    Environment,
    Status,
)

#: Form field names of attributes: ``attr_<key>`` (keys are lower-case identifiers).
ATTR = "attr_"
COMMON = ("name", "status", "environment", "owner_team", "support_team", "location", "description")

T = AttributeDefinition.Type


def attribute_field(definition: AttributeDefinition) -> forms.Field:
    """The form field (and widget) of one attribute definition."""
    common = {
        "label": definition.label,
        "required": definition.required,
        "help_text": definition.help_text,
    }
    kind = definition.type
    if kind == T.INTEGER:
        return forms.IntegerField(**common)
    if kind == T.DECIMAL:
        return forms.DecimalField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if kind == T.BOOLEAN:
        # An unticked box is "no"; a required yes/no cannot be enforced by a checkbox.
        return forms.BooleanField(**{**common, "required": False})
    if kind == T.DATE:
        return forms.DateField(widget=DateInput(), **common)
    if kind == T.CHOICE:
        choices = [(str(c), str(c)) for c in definition.choices or []]
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if kind == T.IP_ADDRESS:
        return forms.GenericIPAddressField(**common)
    if kind == T.URL:
        return forms.URLField(assume_scheme="https", **common)
    if kind == T.EMAIL:
        return forms.EmailField(**common)
    return forms.CharField(max_length=500, **common)


def attribute_value(value):
    """A cleaned form value as the services take it (``None`` removes the attribute)."""
    if value in (None, ""):
        return None
    if isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)  # Decimal: kept exact, the service reads it as a number


class CIForm(EditInPlace, forms.Form):
    """Create (``instance=None``) or edit a CI of the class ``schema`` describes."""

    wide_fields = ("description",)

    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autofocus": True}))
    status = forms.ChoiceField(choices=Status.choices, initial=Status.LIVE)
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)
    owner_team = forms.ModelChoiceField(
        Team.objects.filter(active=True), required=False, widget=Picker("teams")
    )
    support_team = forms.ModelChoiceField(
        Team.objects.filter(active=True), required=False, widget=Picker("teams")
    )
    location = forms.ModelChoiceField(
        Location.objects.all(), required=False, widget=Picker("locations")
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, schema: ClassSchema, instance: ConfigurationItem | None = None, **kw):
        self.schema = schema
        self.instance = instance
        if instance is not None:
            kw.setdefault("initial", self.initial_of(instance))
        super().__init__(*args, **kw)
        for key, definition in schema.definitions.items():
            self.fields[ATTR + key] = attribute_field(definition)
        if instance is not None:
            self.track_changes(instance)

    @staticmethod
    def initial_of(ci: ConfigurationItem) -> dict:
        initial = {name: getattr(ci, name) for name in ("name", "status", "environment")}
        initial["description"] = ci.description
        for name in ("owner_team", "support_team", "location"):
            initial[name] = getattr(ci, f"{name}_id")
        for key, value in (ci.attributes or {}).items():
            initial[ATTR + key] = value
        return initial

    def common_fields(self):
        return [self[name] for name in COMMON]

    def attribute_fields(self):
        return [self[name] for name in self.fields if name.startswith(ATTR)]

    def create_values(self) -> dict:
        """Keyword arguments of ``services.create_ci`` (besides the class)."""
        data = self.cleaned_data
        values = {name: data[name] for name in COMMON if data.get(name) not in (None, "")}
        attributes = {}
        for key, definition in self.schema.definitions.items():
            value = attribute_value(data.get(ATTR + key))
            if value is None or (value is False and not definition.required):
                continue
            attributes[key] = value
        values["attributes"] = attributes
        return values

    def changed_values(self) -> dict:
        """The changes for ``services.update_ci``: only what the agent changed."""
        changes: dict = {}
        for name in self.changed_data:
            value = self.cleaned_data.get(name)
            if name.startswith(ATTR):
                changes.setdefault("attributes", {})[name[len(ATTR) :]] = attribute_value(value)
            else:
                changes[name] = "" if value is None and name == "description" else value
        return changes

    @classmethod
    def after_conflict(cls, submitted: "CIForm", current: ConfigurationItem) -> "CIForm":
        """The current values with the agent's own changes laid over them, ready to save."""
        fresh = cls(schema=submitted.schema, instance=current)
        data = overlay(submitted, fresh, current.version)
        form = cls(data, schema=submitted.schema, instance=current)
        form.is_valid()
        return form


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError on the form: each message on the field it names;
    attribute errors (``attributes`` → key, or ``attributes.<key>``) on the attribute's
    field; anything else on top of the form."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, errors in error.error_dict.items():
        if field == "attributes":
            for item in errors:
                _attribute_error(form, item)
            continue
        target = field
        if field.startswith(("attributes.", "attr.")):
            target = ATTR + field.split(".", 1)[1]
        for item in errors:
            for message in item.messages if isinstance(item, ValidationError) else [item]:
                if target in form.fields:
                    form.add_error(target, message)
                else:
                    form.add_error(None, f"{field}: {message}")


def _attribute_error(form, item) -> None:
    nested = getattr(item, "error_dict", None)
    if nested is not None:  # {"attributes": {key: message}}
        for key, errors in nested.items():
            for message in ValidationError(errors).messages:
                _add_attribute_error(form, key, message)
        return
    for message in item.messages if isinstance(item, ValidationError) else [str(item)]:
        key = (getattr(item, "params", None) or {}).get("key") or getattr(item, "code", None)
        found = re.match(r"^([a-z][a-z0-9_]*): (.+)$", message, flags=re.DOTALL)
        if (not key or ATTR + key not in form.fields) and found:
            key, message = found.groups()
        _add_attribute_error(form, key or "", message)


def _add_attribute_error(form, key: str, message: str) -> None:
    if ATTR + key in form.fields:
        form.add_error(ATTR + key, message)
    else:
        form.add_error(None, f"{key}: {message}" if key else message)


class RelationshipForm(forms.Form):
    """A relationship from this CI: a type read either way, and the other CI by search
    (``name #id`` from the suggestions), id, or exact name."""

    kind = forms.ChoiceField(label=_("Relationship"))
    target = forms.CharField(
        max_length=250,
        label=_("Other CI"),
        widget=forms.TextInput(attrs={"placeholder": _("name or id"), "list": "ci-options"}),
    )

    def __init__(self, *args, ci: ConfigurationItem, items, types, **kwargs):
        super().__init__(*args, **kwargs)
        self.ci, self.items, self.types = ci, items, {t.key: t for t in types}
        choices = []
        for t in types:
            choices.append((f"{t.key}:out", t.name))
            if t.reverse_name != t.name:
                choices.append((f"{t.key}:in", t.reverse_name))
        self.fields["kind"].choices = choices

    def clean_target(self):
        text = self.cleaned_data["target"].strip()
        found = re.search(r"(?:^|#)(\d+)\s*$", text)
        if found:
            match = list(self.items.filter(pk=int(found.group(1))))
        else:
            match = list(self.items.filter(name__iexact=text)[:2])
        if not match:
            raise ValidationError(
                gettext("No CI %(text)s: pick one from the suggestions.") % {"text": repr(text)}
            )
        if len(match) > 1:
            raise ValidationError(
                gettext("Several CIs are named %(text)s: pick one from the suggestions.")
                % {"text": repr(text)}
            )
        if match[0].pk == self.ci.pk:
            raise ValidationError(gettext("A CI cannot be related to itself."))
        return match[0]

    def relation(self) -> tuple:
        """(source, type, target) for ``services.relate``."""
        key, _, direction = self.cleaned_data["kind"].partition(":")
        other = self.cleaned_data["target"]
        type_ = self.types[key]
        return (self.ci, type_, other) if direction == "out" else (other, type_, self.ci)


class ImportForm(forms.Form):
    MAX_BYTES = 5 * 1024 * 1024

    data_source = forms.ModelChoiceField(
        DataSource.objects.all(), label=_("Data source"), empty_label=_("Choose a data source")
    )
    file = forms.FileField(
        label=_("CSV file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"})
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("The file is larger than 5 MB; split it."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text.")) from None
