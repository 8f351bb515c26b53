from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.defaultfilters import filesizeformat
from django.urls import reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalogue.models import Service
from cmdb.widgets import CIMultipleChoiceField
from itsm.accounts.models import Team
from itsm.core.forms import EditInPlace, PersonField, overlay
from itsm.core.widgets import Picker, TextPicker

from .models import Category, Incident, Level, OnHoldReason, ResolutionCode
from .services import MAX_REPORT_FILES
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


class IncidentForm(EditInPlace, forms.ModelForm):
    """The agent's incident form (logging and editing)."""

    wide_fields = ("title", "description")

    caller = PersonField(
        placeholder=_("Type a name or e-mail (you, if empty)"),
        typed=_("username (you, if empty)"),
        required=False,
        help_text=_("Who is affected (you, if empty)."),
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
    configuration_items = CIMultipleChoiceField(required=False, label=_("Affected CIs"))
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
        help_text=_("A member of the assignment group."),
    )
    parent = forms.ModelChoiceField(
        Incident.objects.filter(parent__isnull=True, state__in=IncidentState.OPEN),
        required=False,
        to_field_name="number",
        widget=TextPicker("parent-incidents", placeholder=_("Number or words of the title…")),
        label=_("Parent incident"),
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
            if incident.parent_id:
                self.fields["parent"].widget.known = {incident.parent.number: incident.parent}
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
        Team.objects.filter(active=True),
        required=False,
        empty_label=_("Group: keep"),
        widget=Picker(
            "teams", placeholder=_("Group: keep"), attrs={"aria-label": _("Assignment group")}
        ),
    )
    assigned_to = forms.ModelChoiceField(
        User.objects.filter(is_active=True, teams__isnull=False)
        .distinct()
        .prefetch_related("teams"),
        required=False,
        to_field_name="username",
        empty_label=_("Assignee: keep"),
        widget=Picker(
            "agents",
            depends_on="assignment_group",
            placeholder=_("Assignee: keep"),
            attrs={"aria-label": _("Assignee")},
        ),
    )
    state = forms.ChoiceField(
        choices=[("", _("State: keep")), *IncidentState.choices], required=False
    )
    on_hold_reason = forms.ChoiceField(
        choices=[("", _("On hold reason")), *OnHoldReason.choices], required=False
    )
    resolution_code = forms.ChoiceField(
        choices=[("", _("Resolution code")), *ResolutionCode.choices], required=False
    )
    resolution_notes = forms.CharField(required=False, max_length=4000)

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


#: How urgent an issue is, in the words of the person who has it (the model's urgency).
URGENCY_CHOICES = [
    (Level.HIGH, _("High: I cannot work, or many people are affected")),
    (Level.MEDIUM, _("Medium: I can work, but it slows me down")),
    (Level.LOW, _("Low: it is an inconvenience")),
]


class ReportIssueForm(forms.Form):
    """What an employee fills in on the portal (drawn here, parsed by the API's
    serializer; the files go along to ``open_incident``)."""

    wide_fields = ("title", "description", "attachments")

    title = forms.CharField(
        max_length=200,
        label=_("What is wrong?"),
        widget=forms.TextInput(attrs={"autofocus": True, **SUGGEST_WHILE_TYPING}),
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        label=_("Details"),
        help_text=_("What were you doing, what did you expect, what happened instead?"),
    )
    service = forms.ModelChoiceField(
        Service.objects.filter(status=Service.Status.LIVE),
        required=False,
        label=_("Which service is affected?"),
        empty_label=_("Not sure / none"),
    )
    urgency = forms.TypedChoiceField(
        choices=URGENCY_CHOICES,
        coerce=int,
        initial=Level.LOW,
        label=_("How urgent is it?"),
    )
    attachments = forms.FileField(
        required=False,
        widget=MultipleFileInput,
        label=_("Screenshots or files"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = gettext(
            "Optional: up to %(count)s files of at most %(size)s each."
        ) % {"count": MAX_REPORT_FILES, "size": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}
