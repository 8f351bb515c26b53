from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def state_badge(record):
    return format_html(
        '<span class="badge state-{}">{}</span>', record.state, record.workflow.label(record.state)
    )


@register.simple_tag
def priority_badge(record):
    return format_html('<span class="badge prio-{}">P{}</span>', record.priority, record.priority)


def _change_value(value):
    """One side of a field change as people read it: Yes/No, not True/False; — for nothing."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return "—" if value in (None, "") else value


@register.simple_tag
def field_changes(entry):
    """A field-change journal entry as a compact list: field: old → new."""
    rows = []
    for name, change in sorted((entry.data or {}).items()):
        if not isinstance(change, list | tuple) or len(change) != 2:
            continue
        old, new = (_change_value(v) for v in change)
        rows.append((name.replace("_", " "), old, new))
    return format_html_join("", "<li><b>{}</b>: {} → {}</li>", rows)


@register.filter
def user_label(user):
    if user is None:
        return "System"
    return user.get_full_name() or user.username


@register.simple_tag(takes_context=True)
def sort_link(context, field, label):
    """A queue column header that sorts by ``field`` (toggling the direction)."""
    current = context.get("ordering", "")
    base = context.get("query_without_ordering", "")
    if current == field:
        target, arrow = f"-{field}", " ▲"
    elif current == f"-{field}":
        target, arrow = field, " ▼"
    else:
        target, arrow = f"-{field}" if field in ("created_at", "updated_at") else field, ""
    query = f"{base}&ordering={target}" if base else f"ordering={target}"
    return format_html(
        '<a href="?{}" hx-get="?{}" hx-target="#queue" hx-push-url="true">{}{}</a>',
        query,
        query,
        label,
        arrow,
    )


@register.filter
def humanize_state(value):
    return str(value or "").replace("_", " ")


@register.filter
def duration(value):
    """A timedelta as people say it: "5 days", "1 day 4 hours", "8 hours", "30 minutes"."""
    if value is None:
        return ""
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    for amount, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts[:2]) or "less than a minute"
