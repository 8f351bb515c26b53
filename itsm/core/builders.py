"""Builder fields for the admin screens: a JSON value edited as rows.

The field posts JSON text, as the API takes it; ``static/js/builders.js`` draws rows from it
(conditions, choices) and writes every change back. Without JavaScript the JSON text area
is the field. The server checks the posted value with the model's own rules; the problems
it finds, each with where it is (``{"group": 1, "attribute": "state", "message": …}``), are
handed back to the rows."""

from dataclasses import dataclass

from django import forms
from django.template.loader import render_to_string
from django.utils.html import format_html


class _JavaScriptCatalogue:
    """The JavaScript catalogue (``/jsi18n/``: the builder's texts in the person's
    language) as a script of a form's media, before ``builders.js``. Its URL names the
    language, so it is made when the page is drawn."""

    def __html__(self):
        from itsm.core.templatetags.jsi18n import catalogue_url

        return format_html('<script src="{}"></script>', catalogue_url())


BUILDER_MEDIA = forms.Media(
    css={"all": ["css/builders.css"]}, js=[_JavaScriptCatalogue(), "js/builders.js"]
)


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with a value a builder edits, and where: ``group`` is the row's
    position in the value's list (None: the value as a whole), ``attribute`` the
    attribute of that row it is about; in an admin's inline forms, ``index`` is the
    inline row and ``field`` its builder field."""

    message: str
    group: int | None = None
    attribute: str | None = None
    index: int | None = None
    field: str = ""

    def as_dict(self) -> dict:
        """What the builder's rows are handed (``builders.js``)."""
        return {"group": self.group, "attribute": self.attribute, "message": self.message}


class BuilderWidget(forms.Textarea):
    """A JSON text area with a builder of ``kind`` drawn over it; ``config`` (JSON-ready)
    tells the builder what to offer, ``data`` adds ``data-*`` attributes (e.g. which other
    field's value the offer depends on)."""

    def __init__(self, kind: str, config=None, data=None, attrs=None):
        super().__init__(attrs={"rows": 4, "cols": 60, "class": "builder-source", **(attrs or {})})
        self.kind = kind
        self.config = config if config is not None else {}
        self.data = data or {}
        self.problems: list[dict] = []

    @property
    def media(self):
        return BUILDER_MEDIA

    def render(self, name, value, attrs=None, renderer=None):
        textarea = super().render(name, value, attrs, renderer)
        context = {
            "kind": self.kind,
            "data": self.data,
            "config": self.config() if callable(self.config) else self.config,
            "problems": self.problems,
            "textarea": textarea,
        }
        # The template escapes what it shows; its output is safe HTML.
        return render_to_string("admin/builders/builder.html", context)


class BuilderField(forms.JSONField):
    """A JSON form field drawn as a builder; ``fail`` reports problems found by the model's
    rules, on the rows and as the field's errors."""

    def __init__(self, kind: str, config=None, data=None, **kwargs):
        kwargs.setdefault("widget", BuilderWidget(kind, config, data))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)

    def fail(self, problems: list[dict], messages: list[str]):
        self.widget.problems = problems
        return forms.ValidationError(messages)
