"""Picking CIs in other practices' forms (an incident's affected CIs…) without listing the
whole CMDB: the chosen CIs are shown, others are found by typing (suggestions from
``cmdb:lookup``) and added."""

from django import forms
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from itsm.core.views import parse_id

from .models import ConfigurationItem

#: Adds the suggestion typed or picked (``name #id``) to the select beside it.
SCRIPT = (
    "(function(input){var m=/#(\\d+)\\s*$/.exec(input.value);if(!m)return;"
    "var select=document.getElementById(input.dataset.select);"
    "if(!select.querySelector('option[value=\"'+m[1]+'\"]')){"
    "var o=new Option(input.value.replace(/\\s*#\\d+\\s*$/,''),m[1],true,true);select.add(o);}"
    "else{select.querySelector('option[value=\"'+m[1]+'\"]').selected=true;}"
    "input.value='';})(this)"
)


class CIPicker(forms.SelectMultiple):
    """A multiple select holding only the chosen CIs (untick to remove), and a search
    box whose suggestions add one."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        select_id = attrs.get("id") or f"id_{name}"
        chosen = [pk for pk in (parse_id(v) for v in (value or [])) if pk is not None]
        # One query whether or not any CI is chosen (a page's query count stays fixed).
        items = ConfigurationItem.objects.filter(pk__in=chosen or [0]).select_related("ci_class")
        options = format_html_join(
            "",
            '<option value="{}" selected>{} ({})</option>',
            ((ci.pk, ci.name, ci.ci_class.name) for ci in items.order_by("name")),
        )
        datalist = f"{select_id}-suggestions"
        return format_html(
            '<select name="{}" id="{}" multiple size="{}" class="ci-picker" '
            'aria-describedby="{}-help">{}</select>'
            '<input type="search" list="{}" data-select="{}" placeholder="Add a CI: type its name" '
            'aria-label="Add a CI" hx-get="{}" hx-trigger="input changed delay:250ms" '
            'hx-target="#{}" name="q" hx-params="q" onchange="{}">'
            '<datalist id="{}"></datalist>'
            '<small class="muted" id="{}-help">Untick a CI to remove it.</small>',
            name,
            select_id,
            max(2, min(len(chosen), 6)),
            select_id,
            options,
            datalist,
            select_id,
            reverse("cmdb:lookup"),
            datalist,
            SCRIPT,
            datalist,
            select_id,
        )


class CIMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Affected CIs, any number, checked against the CMDB by id (one query)."""

    widget = CIPicker

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", ConfigurationItem.objects.all())
        super().__init__(**kwargs)
