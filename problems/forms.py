import re

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalogue.models import Service
from cmdb.widgets import CIMultipleChoiceField
from incidents.models import Category, Incident
from itsm.core.forms import AssigneeField, AssignmentGroupField, EditInPlace
from itsm.core.widgets import MultiPicker, Picker

from .models import Dimension, Effectiveness, Problem

INCIDENT_NUMBER = re.compile(r"INC\d{7,}")


class IncidentNumbersField(forms.CharField):
    """Incidents by number, separated by commas or spaces (all must exist)."""

    def clean(self, value):
        value = super().clean(value)
        numbers = sorted(set(INCIDENT_NUMBER.findall((value or "").upper())))
        leftover = INCIDENT_NUMBER.sub("", (value or "").upper()).replace(",", " ").split()
        if leftover:
            raise forms.ValidationError(
                gettext("Not incident numbers: %(values)s.") % {"values": ", ".join(leftover)}
            )
        found = list(Incident.objects.filter(number__in=numbers).order_by("number"))
        missing = sorted(set(numbers) - {i.number for i in found})
        if missing:
            raise forms.ValidationError(
                gettext("No such incidents: %(numbers)s.") % {"numbers": ", ".join(missing)}
            )
        return found


class ProblemForm(EditInPlace, forms.ModelForm):
    """The agent's problem form (logging and editing)."""

    wide_fields = ("title", "description", "workaround")

    category = forms.ModelChoiceField(
        Category.objects.filter(active=True).select_related("parent"),
        required=False,
        empty_label=_("None"),
        widget=Picker("any-categories"),
    )
    services = forms.ModelMultipleChoiceField(
        Service.objects.all(),
        required=False,
        widget=MultiPicker("services", placeholder=_("Add a service: type its name")),
    )
    configuration_items = CIMultipleChoiceField(required=False, label=_("Affected CIs"))
    assignment_group = AssignmentGroupField()
    assigned_to = AssigneeField()

    class Meta:
        model = Problem
        fields = [
            "title",
            "description",
            "category",
            "impact",
            "probability",
            "services",
            "configuration_items",
            "assignment_group",
            "assigned_to",
            "workaround",
            "workaround_public",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "workaround": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        problem = self.instance
        if problem.pk:
            self.track_changes(problem)


class CreateProblemForm(ProblemForm):
    incidents = IncidentNumbersField(
        required=False,
        label=_("Incidents"),
        help_text=_("Incident numbers, separated by commas."),
        widget=forms.TextInput(attrs={"placeholder": "INC0001234, INC0001235"}),
    )

    class Meta(ProblemForm.Meta):
        fields = [*ProblemForm.Meta.fields, "incidents"]

    def changed_values(self) -> dict:
        values = {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}
        if not values.get("workaround_public"):
            values.pop("workaround_public", None)
        return values


class CauseForm(forms.Form):
    dimension = forms.ChoiceField(choices=Dimension.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)
    is_root_cause = forms.BooleanField(required=False, label=_("Root cause"))


class LinkIncidentsForm(forms.Form):
    incidents = IncidentNumbersField(label=_("Incidents"))


class RatingForm(forms.Form):
    effectiveness = forms.TypedChoiceField(choices=Effectiveness.choices, coerce=int)
    note = forms.CharField(required=False, max_length=2000)


class TrendForm(forms.Form):
    threshold = forms.IntegerField(min_value=1, max_value=10_000, required=False, initial=3)
    days = forms.IntegerField(min_value=1, max_value=365, required=False, initial=7)
