"""Forms of the knowledge screens. They only check and convert input; ``services`` writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from itsm.accounts.models import STAFF_ROLES, Team, User
from itsm.core.widgets import DateInput

from .models import Article, KnowledgeCategory
from .services import CONTENT_FIELDS, MAX_COMMENT
from .workflows import ArticleState


class ArticleForm(forms.ModelForm):
    """Create or edit an article. Outside a draft, the text is locked (revise first)."""

    wide_fields = ("title", "summary")

    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, role__in=STAFF_ROLES).order_by("username"),
        required=False,
        to_field_name="username",
        help_text=_("Keeps it up to date; you, if left empty."),
    )
    assignment_group = forms.ModelChoiceField(
        queryset=Team.objects.filter(active=True).only("pk", "name"),
        required=False,
        label=_("Reviewing team"),
        help_text=_("Its members review and publish; managers and administrators always may."),
    )
    category = forms.ModelChoiceField(
        queryset=KnowledgeCategory.objects.filter(active=True), required=False
    )

    class Meta:
        model = Article
        fields = [
            "title",
            "summary",
            "body",
            "keywords",
            "category",
            "audience",
            "owner",
            "assignment_group",
            "review_date",
        ]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 18, "class": "markdown-source"}),
            "review_date": DateInput(),
            "summary": forms.TextInput(),
        }
        help_texts = {"body": _("Markdown: **bold**, _italic_, lists, `code`, [links](https://…).")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.owner_id:
            self.initial["owner"] = self.instance.owner.username
        if self.instance.pk and self.instance.state != ArticleState.DRAFT:
            for name in CONTENT_FIELDS:
                self.fields[name].disabled = True

    def _post_clean(self):
        """Model validation happens in ``services`` (by field, with the same messages)."""

    def values(self) -> dict:
        """What changed (for an edit) or everything given (for a new article)."""
        names = self.changed_data if self.instance.pk else self.Meta.fields
        values = {
            name: self.cleaned_data[name]
            for name in names
            if name in self.cleaned_data and not self.fields[name].disabled
        }
        if values.get("owner", True) is None:
            values.pop("owner")  # left empty: the author (new), or unchanged (edit)
        return values


class FeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=[("yes", _("Yes")), ("no", _("No"))], coerce=lambda value: value == "yes"
    )
    comment = forms.CharField(required=False, max_length=MAX_COMMENT, widget=forms.Textarea)
