from datetime import date, datetime

from django import template
from django.utils import formats as django_formats
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from itsm.core import formats

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
        return _("Yes")
    if value is False:
        return _("No")
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
        return _("System")
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
    for amount, unit in (
        (days, ngettext("%(n)d day", "%(n)d days", days)),
        (hours, ngettext("%(n)d hour", "%(n)d hours", hours)),
        (minutes, ngettext("%(n)d minute", "%(n)d minutes", minutes)),
    ):
        if amount:
            parts.append(unit % {"n": amount})
    return " ".join(parts[:2]) or _("less than a minute")


@register.filter
def when(value):
    """A moment as this person reads it: in their zone, in their date format if they chose
    one (``itsm.core.formats``), else in their language's (2026-12-31 17:05, 31.12.2026 17:05)."""
    if not isinstance(value, datetime):
        return day(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    found = formats.spec()
    if found is not None:
        return value.strftime(f"{found[0]} %H:%M")
    return django_formats.date_format(value, "SHORT_DATETIME_FORMAT")


@register.filter
def day(value):
    """A calendar date as this person reads it (see ``when``); a moment's day in their zone."""
    if not isinstance(value, date):
        return value if value not in (None, "") else ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    found = formats.spec()
    if found is not None:
        return value.strftime(found[0])
    return django_formats.date_format(value, "SHORT_DATE_FORMAT")
