"""Forms of the asset screens. They only check and convert input; ``services`` writes.

No field lists a whole table: the CI is found by typing (suggestions from the CMDB's
lookup), the user by username and the vendor by name (suggestions capped), so the pages do
not grow with the CMDB, the user base or the supplier list."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cmdb.models import ConfigurationItem
from itsm.accounts.models import Location
from itsm.core.forms import PersonField
from itsm.core.views import parse_id
from itsm.core.widgets import DateInput, Picker

from .models import Asset, Supplier
from .workflows import AssetState

#: How many supplier names the vendor field suggests at most.
SUPPLIER_SUGGESTIONS = 100


class CISearchInput(forms.TextInput):
    """A text input taking ``name #id`` (or an id, or an exact name) whose suggestions come
    from the CMDB lookup as the agent types."""

    def __init__(self, attrs=None):
        super().__init__(
            {
                "placeholder": _("Type a CI name, or an id"),
                "autocomplete": "off",
                "hx-get": reverse_lazy("cmdb:lookup"),
                "hx-trigger": "input changed delay:250ms",
                "hx-params": "q",
                "hx-vals": "js:{q: this.value}",
                **(attrs or {}),
            }
        )

    def render(self, name, value, attrs=None, renderer=None):
        options = f"{(attrs or {}).get('id') or 'id_' + name}-options"
        attrs = {**(attrs or {}), "list": options, "hx-target": f"#{options}"}
        html = super().render(name, value, attrs, renderer)
        return format_html('{}<datalist id="{}"></datalist>', html, options)


class CIChoiceField(forms.Field):
    """One CI, typed: ``name #id`` from the suggestions, an id, or an exact name."""

    widget = CISearchInput

    def prepare_value(self, value):
        if isinstance(value, ConfigurationItem):
            return f"{value.name} #{value.pk}"
        return value

    def to_python(self, value):
        text = str(value or "").strip()
        if not text:
            return None
        items = ConfigurationItem.objects.only("pk", "name")
        found = re.search(r"(?:^|#)(\d+)\s*$", text)
        if found:
            pk = parse_id(found.group(1))
            match = list(items.filter(pk=pk)) if pk is not None else []
        else:
            match = list(items.filter(name__iexact=text)[:2])
        if not match:
            raise ValidationError(
                gettext("No CI %(text)s: pick one from the suggestions.") % {"text": repr(text)}
            )
        if len(match) > 1:
            raise ValidationError(
                gettext("Several CIs are named %(text)s: pick one from the suggestions.")
                % {"text": repr(text)}
            )
        return match[0]


class SupplierNameInput(forms.TextInput):
    """A supplier's name, with a few names suggested (one query, capped)."""

    def render(self, name, value, attrs=None, renderer=None):
        options = f"{(attrs or {}).get('id') or 'id_' + name}-options"
        attrs = {**(attrs or {}), "list": options, "autocomplete": "off"}
        html = super().render(name, value, attrs, renderer)
        names = Supplier.objects.order_by("name").values_list("name", flat=True)
        suggestions = format_html_join(
            "", '<option value="{}"></option>', ((n,) for n in names[:SUPPLIER_SUGGESTIONS])
        )
        return format_html('{}<datalist id="{}">{}</datalist>', html, options, suggestions)


class SupplierNameField(forms.ModelChoiceField):
    """A supplier by name (any case)."""

    widget = SupplierNameInput

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Supplier.objects.only("pk", "name"))
        super().__init__(to_field_name="name", **kwargs)

    def to_python(self, value):
        text = str(value or "").strip()
        if not text:
            return None
        match = self.queryset.filter(name__iexact=text).first()
        if match is None:
            raise ValidationError(
                gettext("No supplier named %(name)s.") % {"name": repr(text)},
                code="invalid_choice",
            )
        return match


class AssetForm(forms.ModelForm):
    """Create or edit an asset's fields (the state moves with the lifecycle buttons)."""

    vendor = SupplierNameField(required=False)
    assigned_to = PersonField(required=False, label=_("Assigned to"))
    configuration_item = CIChoiceField(
        required=False,
        label=_("Configuration item"),
        help_text=_("The CI this asset is, in the CMDB."),
    )

    class Meta:
        model = Asset
        fields = [
            "asset_tag",
            "model",
            "serial_number",
            "vendor",
            "purchase_date",
            "purchase_cost",
            "currency",
            "warranty_end",
            "assigned_to",
            "location",
            "configuration_item",
            "notes",
        ]
        widgets = {
            "location": Picker("locations"),
            "purchase_date": DateInput(),
            "warranty_end": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        asset = self.instance
        if asset.pk and not self.is_bound:
            # Text inputs show the name / username, not the primary keys (the related rows
            # are read with the asset: no query of their own).
            self.initial["vendor"] = asset.vendor.name if asset.vendor_id else ""
            self.initial["assigned_to"] = asset.assigned_to.username if asset.assigned_to_id else ""
            if asset.assigned_to_id:
                known = {asset.assigned_to.username: asset.assigned_to}
                self.fields["assigned_to"].widget.known = known
            self.initial["configuration_item"] = (
                f"{asset.configuration_item.name} #{asset.configuration_item_id}"
                if asset.configuration_item_id
                else ""
            )

    def _post_clean(self):
        """Model validation happens in ``services`` (with the same messages, by field);
        the form does not build or validate an instance of its own."""

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MoveForm(forms.Form):
    state = forms.ChoiceField(choices=AssetState.choices)
    assigned_to = PersonField(required=False)
    location = forms.ModelChoiceField(
        queryset=Location.objects.all(), required=False, widget=Picker("locations")
    )
    note = forms.CharField(required=False, max_length=2000)

    def changes(self) -> dict:
        """Only the assignment fields the form was given (an empty one leaves it as is)."""
        return {
            name: self.cleaned_data[name]
            for name in ("assigned_to", "location")
            if self.cleaned_data.get(name) is not None
        }
