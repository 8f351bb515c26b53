from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy

from catalogue.models import Service
from cmdb.widgets import CIMultipleChoiceField
from itsm.accounts.models import Team
from itsm.core.forms import EditInPlace, overlay
from itsm.core.widgets import ChosenPicker, Picker, TextPicker

from .models import Category, Incident, OnHoldReason, ResolutionCode
from .workflows import IncidentState

User = get_user_model()

#: A title field that shows what may already answer it (articles, known errors) as the
#: person types: ``#suggestions`` beside it receives the fragment.
SUGGEST_WHILE_TYPING = {
    "hx-get": reverse_lazy("suggestions"),
    "hx-trigger": "input changed delay:300ms, load",
    "hx-target": "#suggestions",
    "hx-sync": "this:replace",
    "autocomplete": "off",
}


class AssigneeSelect(forms.Select):
    """Each agent's option names their teams, so the page can offer only the chosen group's."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-teams"] = " ".join(str(team.pk) for team in instance.teams.all())
        return option


class IncidentForm(EditInPlace, forms.ModelForm):
    """The agent's incident form (logging and editing)."""

    wide_fields = ("title", "description")

    caller = forms.ModelChoiceField(
        User.objects.filter(is_active=True),
        required=False,
        to_field_name="username",
        widget=TextPicker(
            "people",
            card=True,
            placeholder="Type a name or e-mail (you, if empty)",
            attrs={"placeholder": "username (you, if empty)"},
        ),
        help_text="Who is affected: a username (you, if empty).",
    )
    category = forms.ModelChoiceField(
        Category.objects.filter(active=True, parent__isnull=True),
        required=False,
        widget=Picker("categories"),
    )
    subcategory = forms.ModelChoiceField(
        Category.objects.filter(active=True, parent__isnull=False).select_related("parent"),
        required=False,
        widget=Picker("subcategories", depends_on="category"),
    )
    service = forms.ModelChoiceField(
        Service.objects.all(), required=False, widget=Picker("services")
    )
    configuration_items = CIMultipleChoiceField(
        required=False,
        label="Affected CIs",
        widget=ChosenPicker("cis", placeholder="Add a CI: type its name"),
    )
    assignment_group = forms.ModelChoiceField(
        Team.objects.filter(active=True), required=False, widget=Picker("teams")
    )
    assigned_to = forms.ModelChoiceField(
        User.objects.filter(is_active=True, teams__isnull=False)
        .distinct()
        .prefetch_related("teams"),
        required=False,
        to_field_name="username",
        widget=Picker("agents", depends_on="assignment_group"),
        help_text="A member of the assignment group.",
    )
    parent = forms.ModelChoiceField(
        Incident.objects.filter(parent__isnull=True, state__in=["new", "in_progress", "on_hold"]),
        required=False,
        to_field_name="number",
        widget=forms.TextInput(attrs={"placeholder": "INC0001234"}),
        label="Parent incident",
    )

    class Meta:
        model = Incident
        fields = [
            "title",
            "description",
            "caller",
            "category",
            "subcategory",
            "service",
            "configuration_items",
            "impact",
            "urgency",
            "assignment_group",
            "assigned_to",
            "major",
            "parent",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        incident = self.instance
        if incident.pk:
            # Text inputs show the username and number, not the primary keys.
            self.initial["caller"] = incident.caller.username
            self.fields["caller"].widget.known = {incident.caller.username: incident.caller}
            self.initial["parent"] = incident.parent.number if incident.parent_id else ""
            self.initial["assigned_to"] = (
                incident.assigned_to.username if incident.assigned_to_id else None
            )
            self.fields["caller"].help_text = ""
            self.fields["caller"].required = True
            self.track_changes(incident)

    @classmethod
    def after_conflict(cls, submitted: "IncidentForm", current: Incident) -> "IncidentForm":
        """The current values with the agent's own changes laid over them, ready to save."""
        data = overlay(submitted, cls(instance=current), current.version)
        return cls(data, instance=Incident.objects.get(pk=current.pk))

    def changed_values(self) -> dict:
        """The cleaned values the agent changed (all of them for a new incident)."""
        if self.instance.pk is None:
            return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}
        return super().changed_values()


class BulkUpdateForm(forms.Form):
    """The queue's bulk bar: one change for the selected incidents."""

    assignment_group = forms.ModelChoiceField(
        Team.objects.filter(active=True), required=False, empty_label="Group: keep"
    )
    assigned_to = forms.ModelChoiceField(
        User.objects.filter(is_active=True, teams__isnull=False)
        .distinct()
        .prefetch_related("teams"),
        required=False,
        empty_label="Assignee: keep",
        widget=AssigneeSelect(attrs={"data-follows-group": "bulk_assignment_group"}),
    )
    state = forms.ChoiceField(choices=[("", "State: keep"), *IncidentState.choices], required=False)
    on_hold_reason = forms.ChoiceField(
        choices=[("", "On hold reason"), *OnHoldReason.choices], required=False
    )
    resolution_code = forms.ChoiceField(
        choices=[("", "Resolution code"), *ResolutionCode.choices], required=False
    )
    resolution_notes = forms.CharField(required=False, max_length=4000)

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class ReportIssueForm(forms.Form):
    """What an employee fills in on the portal."""

    title = forms.CharField(
        max_length=200,
        label="What is wrong?",
        widget=forms.TextInput(attrs={"autofocus": True, **SUGGEST_WHILE_TYPING}),
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        label="Details",
        help_text="What were you doing, what did you expect, what happened instead?",
    )
    service = forms.ModelChoiceField(
        Service.objects.filter(status=Service.Status.LIVE),
        required=False,
        label="Which service is affected?",
        empty_label="Not sure / none",
    )
