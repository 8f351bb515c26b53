"""Portal forms: a catalogue item's order form, built from its variables.

The Django form only turns what the browser sends into typed answers (numbers, dates, lists,
yes/no); the rules themselves (required, regex, min/max, conditions, references) are checked
by ``catalogue.variables.validate`` through ``services.submit_request``, the very check the API
uses. The HTML attributes (required, pattern, min, max…) only help the browser say it first.
"""

import json
from datetime import UTC
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.widgets import DateInput, DateTimeInput, TextPicker

from .models import Variable
from .variables import offered_cis, pattern_message

T = Variable.Type
#: Up to this many choices a single choice is a group of radio buttons, beyond a select.
RADIO_LIMIT = 4
#: The field for ordering on someone's behalf (agents only); never a variable name.
REQUESTED_FOR = "requested_for"


def _number(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _choices(variable: Variable) -> list[tuple[str, str]]:
    return [(c["value"], c.get("label") or c["value"]) for c in variable.choices or []]


def _field(variable: Variable, ci_choices) -> forms.Field | None:
    """The form field for one variable."""
    attrs: dict = {}
    common = {"label": variable.label, "help_text": variable.help_text, "required": False}
    kind = variable.type
    if kind in (T.TEXT, T.MULTILINE):
        if variable.regex and kind == T.TEXT:
            attrs["pattern"] = variable.regex
            # The browser shows the title with its own "match the requested format".
            attrs["title"] = pattern_message(variable)
        if variable.min_length is not None:
            attrs["minlength"] = variable.min_length
        if variable.max_length is not None:
            attrs["maxlength"] = variable.max_length
        widget = (
            forms.Textarea(attrs={"rows": 4, **attrs})
            if kind == T.MULTILINE
            else forms.TextInput(attrs=attrs)
        )
        return forms.CharField(widget=widget, strip=False, **common)
    if kind == T.NUMBER:
        attrs["step"] = "any"
        if variable.min_value is not None:
            attrs["min"] = _number(variable.min_value)
        if variable.max_value is not None:
            attrs["max"] = _number(variable.max_value)
        return forms.DecimalField(widget=forms.NumberInput(attrs=attrs), **common)
    if kind == T.CHOICE:
        choices = _choices(variable)
        if len(choices) <= RADIO_LIMIT:
            return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
        return forms.ChoiceField(choices=[("", gettext("— choose —")), *choices], **common)
    if kind == T.MULTICHOICE:
        return forms.MultipleChoiceField(
            choices=_choices(variable), widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == T.DATE:
        return forms.DateField(widget=DateInput(), **common)
    if kind == T.DATETIME:
        return forms.DateTimeField(
            widget=DateTimeInput(),
            input_formats=DateTimeInput.input_formats,
            **common,
        )
    if kind == T.BOOLEAN:
        return forms.TypedChoiceField(
            choices=[("true", gettext("Yes")), ("false", gettext("No"))],
            coerce=lambda value: value == "true",
            empty_value=None,
            widget=forms.RadioSelect,
            **common,
        )
    if kind == T.USER:
        # A person by username: typed, or picked by name (among those the reader may see).
        attrs.update(autocomplete="off")
        widget = TextPicker("people", placeholder=gettext("Name or username…"), attrs=attrs)
        return forms.CharField(widget=widget, **common)
    if kind == T.CI:
        return forms.TypedChoiceField(
            choices=[("", gettext("— choose —")), *ci_choices],
            coerce=int,
            empty_value=None,
            **common,
        )
    return forms.FileField(**common)  # attachment: stored on the request when ordered


def _equals(value, expected) -> bool:
    return value == expected


class OrderForm(forms.Form):
    """The order form of one catalogue item."""

    def __init__(self, item, variables, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.variables = list(variables)
        self.attachments = [v for v in self.variables if v.type == T.ATTACHMENT]
        ci_choices = []
        if any(v.type == T.CI for v in self.variables):
            ci_choices = [
                (str(pk), name)
                for pk, name in offered_cis().order_by("sort_name", "id").values_list("pk", "name")
            ]
        for variable in self.variables:
            field = _field(variable, ci_choices)
            if field is None:
                continue
            field.variable = variable
            self._mark(field, variable)
            self.fields[variable.name] = field
            if variable.default is not None and not self.is_bound:
                self.initial[variable.name] = self._initial(variable)
        if user is not None and user.is_agent and REQUESTED_FOR not in self.fields:
            self.fields[REQUESTED_FOR] = forms.CharField(
                label=_("For someone else"),
                required=False,
                help_text=_("Their name or username; leave empty to order for yourself."),
                widget=TextPicker("people", placeholder=gettext("Name or username…")),
            )

    @staticmethod
    def _initial(variable):
        if variable.type == T.BOOLEAN:
            return "true" if variable.default else "false"
        return variable.default

    @staticmethod
    def _mark(field, variable) -> None:
        """HTML hints: required when always required (the script handles conditions)."""
        if variable.required and not variable.show_when and variable.type != T.MULTICHOICE:
            field.widget.attrs["required"] = True

    def rows(self):
        """(variable, bound field or None, data attributes) in the item's order."""
        for variable in self.variables:
            bound = self[variable.name] if variable.name in self.fields else None
            data = {"data-var": variable.name, "data-type": variable.type}
            if variable.required:
                data["data-required"] = "true"
            if variable.show_when:
                data["data-show-when"] = json.dumps(variable.show_when)
            if variable.require_when:
                data["data-require-when"] = json.dumps(variable.require_when)
            yield {
                "variable": variable,
                "field": bound,
                "attrs": data,
                "always_required": variable.required and not variable.show_when,
                "group": bound is not None
                and getattr(bound.field.widget, "input_type", "") in ("radio", "checkbox"),
            }

    def attachment_files(self) -> dict:
        """The files given for attachment questions, by variable name."""
        cleaned = getattr(self, "cleaned_data", {})
        return {v.name: cleaned[v.name] for v in self.attachments if cleaned.get(v.name)}

    def answers(self) -> dict:
        """The typed answers of the fields that cleaned well, without empty ones and without
        the ones whose show condition does not hold (hidden in the browser)."""
        answers = {}
        cleaned = getattr(self, "cleaned_data", {})
        for variable in self.variables:
            if variable.name not in cleaned:
                continue
            value = cleaned[variable.name]
            if value is None or value == "" or value == [] or variable.type == T.ATTACHMENT:
                continue  # files travel apart (see attachment_files())
            if variable.type == T.NUMBER:
                value = _number(value)
            elif variable.type == T.DATE:
                value = value.isoformat()
            elif variable.type == T.DATETIME:  # typed in the person's zone, kept in UTC
                value = value.astimezone(UTC).isoformat()
            answers[variable.name] = value
        by_name = {v.name: v for v in self.variables}
        changed = True
        while changed:  # a hidden question hides the ones that depend on it
            changed = False
            for name in list(answers):
                condition = by_name[name].show_when
                if condition and not _equals(
                    answers.get(condition["variable"]), condition["equals"]
                ):
                    del answers[name]
                    changed = True
        return answers

    def add_service_errors(self, error: ValidationError) -> None:
        """Put the service's errors ("variables.<name>", "requested_for", …) on the fields."""
        already = set(self.errors)  # a value the form could not even read
        for key, messages in error.message_dict.items():
            name = key.removeprefix("variables.")
            target = name if name in self.fields else None
            if target in already:
                continue
            for message in messages:
                self.add_error(target, message)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
