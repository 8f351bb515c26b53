"""Reference pickers: one widget for every field that points at other rows (people,
teams, services, CIs, categories), on the workspace's forms and list filters.

The page is usable without JavaScript: each picker is a plain control posting what the
API's serializer takes (a ``<select>`` of ids, or a text box for a username).
``static/js/pickers.js`` turns it into a search-as-you-type box (suggestions from
``/api/v1/lookups/<kind>/``, the rows the person may see; up/down, Enter, Escape), chips
for several values, a badge for the chosen row ("VIP"), dependent choices (a
subcategory follows its category, an assignee their group) and a person's contact card
on hover or focus. The plain control stays the one that is posted.

- ``Picker``: one row of a short list (a ``<select>``: teams, categories, services,
  agents);
- ``MultiPicker``: several rows of a short list (services): a list box, chips with JS;
- ``TextPicker``: one row of a long list, typed (a person by username);
- ``ChosenPicker``: several rows of a long list (CIs): only the chosen ones are drawn
  (one query), others are found by typing;
- ``FilterPicker``: a list filter's picker (``mine``-style shortcuts first; the rows the
  person may see)."""

import datetime

from django import forms
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import formats, lookups

#: The empty choice of a picker used as a filter.
ANY = _("Any")


class PickerMixin:
    """What every picker draws on its plain control: where to look rows up, what it
    depends on, and each choice's detail, badge and narrowing values."""

    def __init__(
        self,
        lookup: str,
        *,
        depends_on: str = "",
        card: bool = False,
        placeholder: str = "",
        attrs=None,
        **kwargs,
    ):
        super().__init__(attrs=attrs, **kwargs)
        self.lookup_key = lookup
        self.depends_on = depends_on
        self.card = card
        self.placeholder = placeholder
        #: rows already in hand, by value (a form bound to a record gives them: no query)
        self.known: dict = {}

    @property
    def lookup(self) -> lookups.Lookup:
        found = lookups.get(self.lookup_key)
        if found is None:
            raise LookupError(f"No lookup {self.lookup_key!r} is registered.")
        return found

    def picker_attrs(self, name: str, attrs: dict) -> dict:
        """The ``data-`` attributes pickers.js reads."""
        extra = {"data-picker": reverse("lookup", args=[self.lookup_key])}
        if self.placeholder:
            extra["data-placeholder"] = self.placeholder
        if self.depends_on:
            own = attrs.get("id") or f"id_{name}"
            # The field it follows, drawn by the same form (same id prefix).
            sibling = own[: len(own) - len(name)] + self.depends_on if own.endswith(name) else ""
            param = next(iter(self.lookup.params), "")
            if sibling and param:
                extra["data-depends-on"] = sibling
                extra["data-depends-param"] = param
        if self.card:
            extra["data-card"] = reverse("contact-card", args=["__value__"])
        return extra

    def get_context(self, name, value, attrs):
        attrs = {**(attrs or {})}
        attrs.update(self.picker_attrs(name, {**self.attrs, **attrs}))
        return super().get_context(name, value, attrs)

    def row_attrs(self, row) -> dict:
        """A choice's detail, badge and the narrowing values it matches."""
        item = self.lookup.item(row)
        data = {f"data-{k}": v for k, v in item["data"].items()}
        if item["detail"]:
            data["data-detail"] = item["detail"]
        if item["badge"]:
            data["data-badge"] = item["badge"]
        return data


class _RowOptions:
    """Options of a model-choice field carry their row's attributes."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        row = getattr(value, "instance", None)
        if row is not None:
            option["attrs"].update(self.row_attrs(row))
            short = self.lookup.label(row)
            if short != label:  # "Printer" where the list says "Hardware / Printer"
                option["attrs"]["data-label"] = short
        return option


class Picker(PickerMixin, _RowOptions, forms.Select):
    """One row of a short list; without JS, the ``<select>`` it is."""


class MultiPicker(PickerMixin, _RowOptions, forms.SelectMultiple):
    """Several rows of a short list; without JS, a list box."""

    def __init__(self, lookup: str, **kwargs):
        kwargs.setdefault("attrs", {"size": 4})
        super().__init__(lookup, **kwargs)


class TextPicker(PickerMixin, forms.TextInput):
    """One row of a long list, posted by a text key (a person's username); without JS a
    text box for that key. The chosen row's name and badge are drawn with it (from
    ``known``, or one query)."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        key = context["widget"]["value"]
        if key:
            row = self.known.get(key)
            if row is None:
                row = self.lookup.chosen([key]).get(key)
            if row is not None:
                lookup, widget_attrs = self.lookup, context["widget"]["attrs"]
                widget_attrs["data-label"] = lookup.label(row)
                badge = lookup.badge(row) if lookup.badge else ""
                if badge:
                    widget_attrs["data-badge"] = badge
        return context


class ChosenPicker(PickerMixin, forms.SelectMultiple):
    """Several rows of a long list (CIs): only the chosen rows are options (one query,
    chosen or not); others are found by typing. Without JS, untick one to remove it."""

    def __init__(self, lookup: str, **kwargs):
        kwargs.setdefault("attrs", {"size": 3})
        super().__init__(lookup, **kwargs)

    def optgroups(self, name, value, attrs=None):
        lookup = self.lookup
        rows = lookup.chosen(value or [])
        groups = []
        for index, (key, row) in enumerate(rows.items()):
            # Chips show names alone: no detail drawn.
            option = self.create_option(name, key, lookup.label(row), True, index, attrs=attrs)
            groups.append((None, [option], index))
        return groups


class FilterPicker(PickerMixin, forms.Select):
    """A list filter's picker: "any", the shortcuts (``("mine", "My teams")``), then the
    rows ``user`` may see (one query) or, with ``chosen_only``, just the one filtered on;
    a value that is none of them (``3,4``) is kept as it was typed."""

    def __init__(
        self,
        lookup: str,
        *,
        user=None,
        shortcuts=(),
        empty_label=ANY,
        chosen_only=False,
        **kwargs,
    ):
        super().__init__(lookup, **kwargs)
        self.user = user
        self.shortcuts = tuple(shortcuts)
        self.empty_label = empty_label
        self.chosen_only = chosen_only

    def optgroups(self, name, value, attrs=None):
        lookup = self.lookup
        current = str(value[0]) if value and value[0] not in (None, "") else ""
        options = [self.create_option(name, "", self.empty_label, not current, 0, attrs=attrs)]
        for key, label in self.shortcuts:
            option = self.create_option(name, key, label, current == key, len(options))
            option["attrs"]["data-shortcut"] = True
            options.append(option)
        if self.chosen_only:
            rows = list(lookup.chosen([current], self.user).values()) if self.user else []
        else:
            # Names alone (one query): the suggestions typed for carry the details.
            rows = list(lookup.rows(self.user, related=False)) if self.user is not None else []
        seen = {key for key, _ in self.shortcuts} | {""}
        for row in rows:
            key = lookup.value_of(row)
            option = self.create_option(name, key, lookup.label(row), current == key, len(options))
            options.append(option)
            seen.add(key)
        if current not in seen:
            options.append(self.create_option(name, current, current, True, len(options)))
        return [(None, options, 0)]

    def format_value(self, value):
        return [] if value is None else [str(value)]

    def get_context(self, name, value, attrs):
        # A list filter draws no help text for the field to be described by.
        attrs = {k: v for k, v in (attrs or {}).items() if k != "aria-describedby"}
        return super().get_context(name, value, attrs)


def use_pickers(filterset, **pickers) -> None:
    """Draw a FilterSet's filters with pickers (``name=dict(lookup=…, shortcuts=…)``),
    offering what the requesting person may see. The filters themselves (what they
    accept, how they filter, in the API too) are unchanged."""
    user = getattr(getattr(filterset, "request", None), "user", None)
    for name, options in pickers.items():
        flt = filterset.filters[name]
        flt.__dict__.pop("_field", None)
        flt.extra["widget"] = FilterPicker(user=user, **options)


#: The assignment filters every record queue draws as pickers, with their shortcuts.
ASSIGNMENT_FILTERS = {
    "assignment_group": {
        "lookup": "teams",
        "shortcuts": (("mine", _("My teams")),),
        "attrs": {"aria-label": _("Assignment group")},
    },
    "assigned_to": {
        "lookup": "agents",
        "shortcuts": (("me", _("Me")),),
        "attrs": {"aria-label": _("Assignee")},
    },
}


# Dates and times ----------------------------------------------------------------------------


def _typed_in_format(context, value, time_part: str) -> None:
    """A date box as a text box in the person's date format, when they chose one: its
    value (ISO as the form holds it, or what they typed) shown in that format."""
    found = formats.spec()
    if found is None:
        return
    pattern, placeholder, regex = found
    widget = context["widget"]
    widget["type"] = "text"
    shown = widget.get("value")
    parsed = None
    if isinstance(value, datetime.datetime | datetime.date):
        parsed = value
    elif isinstance(shown, str) and shown:
        for spelling in ("%Y-%m-%dT%H:%M", "%Y-%m-%d"):
            try:
                # the box's own ISO spelling, a wall-clock time in the person's zone
                parsed = datetime.datetime.strptime(shown[:16], spelling)  # noqa: DTZ007
                break
            except ValueError:
                continue
    if parsed is not None:
        if isinstance(parsed, datetime.datetime) and time_part:
            from django.utils import timezone

            if timezone.is_aware(parsed):
                parsed = timezone.localtime(parsed)
        widget["value"] = parsed.strftime(pattern + time_part)
    widget["attrs"].update(
        {
            "placeholder": placeholder + (" HH:MM" if time_part else ""),
            "inputmode": "numeric",
            "autocomplete": "off",
            "pattern": regex + (r"\s+\d{1,2}:\d{2}" if time_part else ""),
            "title": (
                gettext("A date as %(format)s and a time as HH:MM")
                if time_part
                else gettext("A date as %(format)s")
            )
            % {"format": placeholder},
        }
    )


def _language() -> str:
    from django.conf import settings
    from django.utils import translation

    return translation.get_language() or settings.LANGUAGE_CODE


class DateInput(forms.DateInput):
    """A date box posting ``YYYY-MM-DD``: the browser's date picker (``<input
    type="date">``, marked with the person's language), or, for a person who chose a
    date format of their own (``itsm.core.formats``), a text box in that format whose
    value reaches the form as ISO 8601."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].setdefault("lang", _language())
        _typed_in_format(context, value, "")
        return context

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        typed = formats.parse_date(value) if isinstance(value, str) else None
        return typed.isoformat() if typed else value


class DateTimeInput(forms.DateTimeInput):
    """A date and time box in the person's own time zone, named beside the box: the form
    shows a stored time (UTC) in that zone and reads what is typed in it (the middleware
    makes it the current zone for the request). The browser's picker
    (``<input type="datetime-local">``), or a text box in the person's date format."""

    input_type = "datetime-local"
    #: What the box posts (seconds when a browser adds them) and the API's spelling.
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        typed = formats.parse_datetime(value) if isinstance(value, str) else None
        return typed.strftime("%Y-%m-%dT%H:%M") if typed else value

    def get_context(self, name, value, attrs):
        from django.utils import timezone

        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs.setdefault("lang", _language())
        widget_attrs["data-time-zone"] = timezone.get_current_timezone_name()
        if widget_attrs.get("id"):
            zone_id = f"{widget_attrs['id']}_zone"
            described = widget_attrs.get("aria-describedby", "")
            widget_attrs["aria-describedby"] = f"{described} {zone_id}".strip()
        _typed_in_format(context, value, " %H:%M")
        return context

    def render(self, name, value, attrs=None, renderer=None):
        from django.utils.html import format_html

        context = self.get_context(name, value, attrs)
        box = self._render(self.template_name, context, renderer)
        widget_attrs = context["widget"]["attrs"]
        zone_id = f"{widget_attrs['id']}_zone" if widget_attrs.get("id") else ""
        return format_html(
            '{} <small class="muted time-zone"{}>{}</small>',
            box,
            format_html(' id="{}"', zone_id) if zone_id else "",
            gettext("%(zone)s time") % {"zone": widget_attrs["data-time-zone"]},
        )
