"""The catalogue item's inline rows in the admin: a question's choices as value/label rows,
its show/require conditions as a row naming another question of the item, its default
offered by its type and choices; the approval levels as a checked table. Rows are
checked together by ``form_rules`` and each problem is shown on its row."""

from django import forms
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from itsm.core.builders import BuilderField

from . import form_rules
from .models import ApprovalLevel, Variable

EMPTY = {"choices": list, "show_when": dict, "require_when": dict}


class VariableAdminForm(forms.ModelForm):
    choices = BuilderField(
        "choices", help_text=_("For choice questions: the value stored, the label shown.")
    )
    show_when = BuilderField(
        "variable-condition", help_text=_("Shown only when another question has this answer.")
    )
    require_when = BuilderField(
        "variable-condition", help_text=_("Required when another question has this answer.")
    )
    default = BuilderField(
        "default",
        help_text=_('Checked like an answer to this question (as JSON: "mac", 3, true).'),
    )

    class Meta:
        model = Variable
        fields = [
            "name",
            "label",
            "type",
            "required",
            "order",
            "help_text",
            "default",
            "choices",
            "regex",
            "min_length",
            "max_length",
            "min_value",
            "max_value",
            "show_when",
            "require_when",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, empty in EMPTY.items():
            self.fields[name].initial = empty()

    def _empty_as_model(self, name):
        value = self.cleaned_data.get(name)
        return EMPTY[name]() if value is None else value

    def clean_choices(self):
        return self._empty_as_model("choices")

    def clean_show_when(self):
        return self._empty_as_model("show_when")

    def clean_require_when(self):
        return self._empty_as_model("require_when")


def _report(forms_by_index, found) -> None:
    """Each problem beside its field, and to the field's builder for its row."""
    for problem in found:
        form = forms_by_index[problem.index]
        widget = form.fields[problem.field].widget
        if hasattr(widget, "problems"):
            widget.problems = [*widget.problems, problem.as_dict()]
        form.add_error(problem.field, problem.message)


def _kept(formset) -> tuple[list, set]:
    """The rows kept (read without errors), and the names of the rows that could not be
    read (they still count as questions of the item)."""
    kept, unread = [], set()
    for form in formset.forms:
        if not form.has_changed() and not form.instance.pk:
            continue
        if formset.can_delete and formset._should_delete_form(form):
            continue
        if form.is_valid():
            kept.append(form)
        else:
            unread.add(form.data.get(form.add_prefix("name"), ""))
    return kept, unread


class VariableFormSet(BaseInlineFormSet):
    def clean(self):
        kept, unread = _kept(self)
        questions = [form.instance for form in kept]
        _report(dict(enumerate(kept)), form_rules.check_questions(questions, unread))
        super().clean()  # then the unique names


class ApprovalLevelAdminForm(forms.ModelForm):
    class Meta:
        model = ApprovalLevel
        fields = ["order", "kind", "team"]
        help_texts = {"team": _("For team levels: who approves. Empty for the manager.")}
