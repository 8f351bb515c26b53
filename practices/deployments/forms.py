from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from changes.models import Change
from cmdb.widgets import CIMultipleChoiceField
from itsm.core.forms import AssigneeField, AssignmentGroupField, EditInPlace
from itsm.core.widgets import Picker
from practices.releases.models import Release

from .models import Deployment

User = get_user_model()


class DeploymentForm(EditInPlace, forms.ModelForm):
    wide_fields = ("title", "description")

    release = forms.ModelChoiceField(
        Release.objects.all(),
        required=False,
        to_field_name="number",
        widget=Picker("releases"),
        help_text=_("Or name the build below."),
    )
    change = forms.ModelChoiceField(
        Change.objects.all(),
        required=False,
        to_field_name="number",
        widget=Picker("release-changes"),
        help_text=_("The change that authorises it."),
    )
    configuration_items = CIMultipleChoiceField(required=False, label=_("CIs deployed to"))
    deployed_by = forms.ModelChoiceField(
        User.objects.filter(is_active=True, teams__isnull=False).distinct(),
        required=False,
        to_field_name="username",
        widget=Picker("agents"),
    )
    assignment_group = AssignmentGroupField()
    assigned_to = AssigneeField()

    class Meta:
        model = Deployment
        fields = [
            "title",
            "release",
            "build",
            "software_version",
            "environment",
            "strategy",
            "change",
            "configuration_items",
            "deployed_by",
            "assignment_group",
            "assigned_to",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["title"].help_text = _("Empty: named after what is deployed and where.")
        deployment = self.instance
        if deployment.pk:
            self.track_changes(deployment)
