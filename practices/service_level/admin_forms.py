"""The agreement's admin form: conditions as builder rows, priorities as tick boxes.

What the rows may name (attributes, their values, the operators) comes from
``conditions``, the description of the language the evaluator reads; the posted JSON is
checked by ``conditions.problems``, the check ``Agreement.clean`` (and so the API) makes."""

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from itsm.core.builders import BuilderField

from . import conditions, definitions
from .models import Agreement


def _value(value):
    """A value as JSON keeps it (ids and choices as they are; lazy labels as text)."""
    return value if isinstance(value, bool | int | float | str) or value is None else str(value)


def attribute_catalogue() -> dict:
    """Per record type (by content type id): the attributes conditions may name, with the
    values to offer. One query per related model, whatever the number of record types."""
    related_values: dict[type, list] = {}
    catalogue = {}
    for model in conditions.record_models():
        rows = []
        for attribute in conditions.attributes(model).values():
            if attribute.related is not None and attribute.related not in related_values:
                related_values[attribute.related] = attribute.values()
            values = related_values.get(attribute.related) or attribute.values()
            rows.append(
                {
                    "name": attribute.name,
                    "label": attribute.label,
                    "kind": attribute.kind,
                    "optional": attribute.optional,
                    "empty": attribute.empty,
                    "values": [[_value(v), str(text)] for v, text in values],
                    "complete": attribute.related is None
                    or len(values) < conditions.REFERENCE_LIMIT,
                }
            )
        catalogue[str(ContentType.objects.get_for_model(model).pk)] = rows
    return catalogue


class AttributeCatalogue:
    """Computed once per form when first drawn (three builders share it)."""

    def __init__(self):
        self._found = None

    def __call__(self):
        if self._found is None:
            self._found = attribute_catalogue()
        return self._found


class AgreementAdminForm(forms.ModelForm):
    record_type = forms.ModelChoiceField(
        queryset=ContentType.objects.none(), help_text=_("Which records.")
    )
    priorities = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any priority."),
    )
    conditions = BuilderField(
        "conditions",
        label=_("Applies when"),
        help_text=_("Further attributes the record must have for this agreement to apply."),
    )
    pause_when = BuilderField(
        "conditions",
        label=_("Pause when"),
        help_text=_(
            "The clock pauses while any of these holds; none: the record type's default "
            "(incidents: on hold awaiting the caller or a supplier)."
        ),
    )
    run_when = BuilderField(
        "conditions",
        label=_("Run only when"),
        help_text=_(
            "The clock runs only while one of these holds (an underpinning contract: "
            "while the record waits on its supplier)."
        ),
    )

    class Meta:
        model = Agreement
        fields = definitions.AGREEMENT_FIELDS  # those the API takes
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = conditions.record_types()
        self.fields["record_type"].queryset = ContentType.objects.filter(
            pk__in=[t.pk for t in types]
        )
        self.fields["record_type"].label_from_instance = lambda ct: str(
            ct.model_class()._meta.verbose_name
        ).capitalize()
        self.fields["priorities"].choices = conditions.priority_choices()
        if not self.is_bound:
            self.initial["priorities"] = sorted(self.instance.priority_set)
        catalogue = AttributeCatalogue()
        for name, shape in conditions.SHAPES.items():
            field = self.fields[name]
            field.initial = {} if shape == "one" else []
            field.widget.config = lambda shape=shape: {
                "shape": shape,
                "operators": {key: str(label) for key, label in conditions.OPERATORS.items()},
                "types": catalogue(),
            }
            field.widget.data = {"record-type": self["record_type"].auto_id}

    def clean_priorities(self):
        return ",".join(str(p) for p in sorted(set(self.cleaned_data["priorities"])))

    def _clean_conditions(self, name):
        shape = conditions.SHAPES[name]
        value = self.cleaned_data.get(name)
        if value is None:
            value = {} if shape == "one" else []
        record_type = self.cleaned_data.get("record_type")
        model = record_type.model_class() if record_type else None
        found = conditions.problems(model, value, shape)
        if found:
            known = conditions.attributes(model) if model else {}
            raise self.fields[name].fail(
                [p.as_dict() for p in found], conditions.messages(found, known)
            )
        return value

    def clean_conditions(self):
        return self._clean_conditions("conditions")

    def clean_pause_when(self):
        return self._clean_conditions("pause_when")

    def clean_run_when(self):
        return self._clean_conditions("run_when")
