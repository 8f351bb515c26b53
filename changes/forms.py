from django import forms
from django.utils.translation import gettext_lazy as _

from catalogue.models import Service
from cmdb.widgets import CIMultipleChoiceField
from itsm.core.forms import AssigneeField, AssignmentGroupField, EditInPlace, PersonField
from itsm.core.widgets import DateInput, DateTimeInput, MultiPicker

from .models import Change, ChangeModel, ChangeTask, ChangeTemplate


def _datetime_field(label: str, **kwargs):
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=DateTimeInput(),
        input_formats=DateTimeInput.input_formats,
        **kwargs,
    )


class ChangeForm(EditInPlace, forms.ModelForm):
    """The agent's change form (raising and editing)."""

    wide_fields = (
        "title",
        "description",
        "justification",
        "implementation_plan",
        "backout_plan",
        "test_plan",
    )

    model = forms.ModelChoiceField(
        ChangeModel.objects.filter(active=True), label=_("Change model"), empty_label=None
    )
    services = forms.ModelMultipleChoiceField(
        Service.objects.all(),
        required=False,
        label=_("Services"),
        widget=MultiPicker("services", placeholder=_("Add a service: type its name")),
    )
    configuration_items = CIMultipleChoiceField(required=False, label=_("Affected CIs"))
    requested_by = PersonField(required=False, label=_("Requested by"))
    assignment_group = AssignmentGroupField()
    assigned_to = AssigneeField()
    planned_start = _datetime_field(_("Planned start"))
    planned_end = _datetime_field(_("Planned end"))
    cab_date = forms.DateField(label=_("CAB date"), required=False, widget=DateInput())

    class Meta:
        model = Change
        fields = [
            "title",
            "model",
            "category",
            "description",
            "justification",
            "services",
            "configuration_items",
            "requested_by",
            "assignment_group",
            "assigned_to",
            "planned_start",
            "planned_end",
            "outage_expected",
            "cab_date",
            "implementation_plan",
            "backout_plan",
            "test_plan",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "justification": forms.Textarea(attrs={"rows": 2}),
            "implementation_plan": forms.Textarea(attrs={"rows": 3}),
            "backout_plan": forms.Textarea(attrs={"rows": 3}),
            "test_plan": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.track_changes(self.instance)


class CreateChangeForm(ChangeForm):
    template = forms.ModelChoiceField(
        ChangeTemplate.objects.filter(status=ChangeTemplate.Status.ACTIVE),
        required=False,
        label=_("Standard change template"),
        empty_label=_("None (a normal, emergency or registration change)"),
        help_text=_("A pre-authorised standard change: its fields and tasks are filled in."),
    )

    class Meta(ChangeForm.Meta):
        fields = ["template", *ChangeForm.Meta.fields]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].required = False


class TaskForm(EditInPlace, forms.ModelForm):
    assignment_group = AssignmentGroupField()
    assigned_to = AssigneeField()
    planned_start = _datetime_field(_("Planned start"))
    planned_end = _datetime_field(_("Planned end"))

    class Meta:
        model = ChangeTask
        fields = [
            "title",
            "description",
            "stage",
            "assignment_group",
            "assigned_to",
            "planned_start",
            "planned_end",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.track_changes(self.instance)


class TemplateForm(forms.ModelForm):
    """Proposing a standard change template (a change manager reviews it)."""

    model = forms.ModelChoiceField(
        ChangeModel.objects.filter(active=True, kind="standard"),
        label=_("Change model"),
        empty_label=None,
    )
    assignment_group = AssignmentGroupField()

    class Meta:
        model = ChangeTemplate
        fields = [
            "name",
            "model",
            "description",
            "category",
            "assignment_group",
            "duration_minutes",
            "outage_expected",
            "implementation_plan",
            "backout_plan",
            "test_plan",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "implementation_plan": forms.Textarea(attrs={"rows": 3}),
            "backout_plan": forms.Textarea(attrs={"rows": 3}),
            "test_plan": forms.Textarea(attrs={"rows": 3}),
        }
