from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from changes.models import Change
from cmdb.widgets import CIMultipleChoiceField
from itsm.core.forms import AssigneeField, AssignmentGroupField, EditInPlace
from itsm.core.widgets import ChosenPicker, DateTimeInput, Picker

from .models import Release

User = get_user_model()


def _datetime_field(label: str):
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=DateTimeInput(),
        input_formats=DateTimeInput.input_formats,
    )


class ReleaseForm(EditInPlace, forms.ModelForm):
    wide_fields = ("title", "description", "release_notes")

    configuration_items = CIMultipleChoiceField(required=False, label=_("CIs and software"))
    changes = forms.ModelMultipleChoiceField(
        Change.objects.all(),
        required=False,
        to_field_name="number",
        label=_("Changes carried"),
        widget=ChosenPicker("release-changes", placeholder=_("Add a change: its number or title")),
    )
    release_manager = forms.ModelChoiceField(
        User.objects.filter(is_active=True, teams__isnull=False).distinct(),
        required=False,
        to_field_name="username",
        widget=Picker("agents"),
    )
    assignment_group = AssignmentGroupField()
    assigned_to = AssigneeField()
    planned_start = _datetime_field(_("Planned start"))
    planned_end = _datetime_field(_("Planned end"))

    class Meta:
        model = Release
        fields = [
            "title",
            "release_version",
            "release_type",
            "description",
            "release_manager",
            "assignment_group",
            "assigned_to",
            "planned_start",
            "planned_end",
            "configuration_items",
            "changes",
            "release_notes",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "release_notes": forms.Textarea(attrs={"rows": 8}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        release = self.instance
        if release.pk:
            self.track_changes(release)
