"""``{% record_panels record "workspace" %}``: the blocks other practices add to a
record's page (see ``registry.RecordPanel``)."""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from itsm.core.practices import registry

register = template.Library()


@register.simple_tag(takes_context=True)
def record_panels(context, record, screen="workspace"):
    request = context.get("request")
    parts = []
    for panel in registry.record_panels_for(record, screen):
        data = panel.context_for(request, record)
        if data is None:
            continue
        parts.append(
            render_to_string(panel.template, {"panel": data, "record": record}, request=request)
        )
    return mark_safe("".join(parts))  # noqa: S308 (rendered templates, escaped there)
