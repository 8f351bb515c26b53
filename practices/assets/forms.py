"""Forms of the asset screens. They only check and convert input; ``services`` writes."""

from django import forms

from itsm.accounts.models import Location, User

from .models import Asset
from .workflows import AssetState


class AssetForm(forms.ModelForm):
    """Create or edit an asset's fields (the state moves with the lifecycle buttons)."""

    assigned_to = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        to_field_name="username",
        label="Assigned to",
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
            "purchase_date": forms.DateInput(attrs={"type": "date"}),
            "warranty_end": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ci = self.fields["configuration_item"]
        ci.queryset = ci.queryset.select_related(None).only("pk", "name")
        ci.empty_label = "None"
        self.fields["vendor"].queryset = self.fields["vendor"].queryset.only("pk", "name")

    def _post_clean(self):
        """Model validation happens in ``services`` (with the same messages, by field);
        the form does not build or validate an instance of its own."""

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MoveForm(forms.Form):
    state = forms.ChoiceField(choices=AssetState.choices)
    assigned_to = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        to_field_name="username",
    )
    location = forms.ModelChoiceField(queryset=Location.objects.all(), required=False)
    note = forms.CharField(required=False, max_length=2000)

    def changes(self) -> dict:
        """Only the assignment fields the form was given (an empty one leaves it as is)."""
        return {
            name: self.cleaned_data[name]
            for name in ("assigned_to", "location")
            if self.cleaned_data.get(name) is not None
        }
