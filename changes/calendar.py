"""The change calendar: month, week and timeline views of changes (their planned
windows), change tasks, blackout and maintenance windows (their occurrences), conflicts
marked, filtered by service, CI, team, model and risk; and its iCalendar feed.

The page costs a fixed number of queries whatever the number of changes shown: the
changes in range (one query), which of them have conflicts (one), the tasks in range
(one), the windows (one, expanded in Python), and the filter lists.

**The feed.** Each person may have one feed URL, ``/changes/calendar.ics?token=…``. The
token is random and shown once, when it is created or rotated (the page says to copy it
then); only its SHA-256 is stored (``CalendarFeed.token_hash``), so a leaked database
gives no working URL, and rotating it makes the old URL answer 404. The feed is read-only
and anonymous (mail clients carry no session): it answers what its person may see (staff:
the change schedule), from 30 days back to 180 days ahead. The iCalendar text (RFC 5545)
is written here: lines end in CRLF, text values escape backslashes, commas, semicolons
and newlines, long lines are folded at 75 octets (never inside a UTF-8 character), times
are in UTC.
"""

import hashlib
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from catalogue.models import Service
from incidents.models import Incident
from itsm.accounts.decorators import agent_required
from itsm.accounts.models import Team
from itsm.core.i18n import user_language
from itsm.core.views import error_text, is_htmx, parse_id
from itsm.core.widgets import FilterPicker

from . import conflicts
from . import windows as windows_module
from .models import CalendarFeed, Change, ChangeModel, ChangeTask, RiskLevel, ScheduleWindow
from .risk import risk_word
from .workflows import ChangeState

VIEWS = (("month", _("Month")), ("week", _("Week")), ("timeline", _("Timeline")))
#: The most changes a day cell of the month view lists (the week view lists them all).
MONTH_CELL_LIMIT = 8
#: A week's day lists this many items; beyond them it says how many more (a busy week
#: of thousands of changes is read through the filters, not scrolled).
WEEK_CELL_LIMIT = 40
#: The most rows the timeline draws.
TIMELINE_LIMIT = 400
#: The feed's range around now.
FEED_PAST, FEED_FUTURE = timedelta(days=30), timedelta(days=180)
FEED_LIMIT = 5000


# Filters -----------------------------------------------------------------------------------


class CalendarFilterForm(forms.Form):
    view = forms.ChoiceField(choices=VIEWS, required=False, label=_("View"))
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label=_("Date"))
    service = forms.ModelChoiceField(
        Service.objects.order_by("name"), required=False, label=_("Service")
    )
    ci = forms.IntegerField(required=False, min_value=1, label=_("CI"))
    team = forms.ModelChoiceField(Team.objects.order_by("name"), required=False, label=_("Team"))
    model = forms.ModelChoiceField(
        ChangeModel.objects.order_by("name"), required=False, label=_("Model")
    )
    risk = forms.ChoiceField(
        choices=[("", _("Any")), *RiskLevel.choices], required=False, label=_("Risk")
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ci"].widget = FilterPicker(
            "cis", user=user, chosen_only=True, attrs={"aria-label": _("CI")}
        )
        self.fields["service"].empty_label = _("Any")
        self.fields["team"].empty_label = _("Any")
        self.fields["model"].empty_label = _("Any")


@dataclass
class Item:
    """One bar on the calendar."""

    kind: str  # change, task, blackout, maintenance
    start: datetime
    end: datetime
    label: str
    title: str = ""
    url: str = ""
    state: str = ""
    risk: str = ""
    conflicted: bool = False
    conflict_kinds: tuple = ()
    freeze: bool = False

    @property
    def css(self) -> str:
        parts = [f"cal-{self.kind}"]
        if self.conflicted:
            parts.append("cal-conflict")
        if self.risk:
            parts.append(f"risk-{self.risk}")
        return " ".join(parts)


@dataclass
class Day:
    day: date
    in_month: bool = True
    today: bool = False
    items: list = field(default_factory=list)

    @property
    def shown(self):
        return self.items[:MONTH_CELL_LIMIT]

    @property
    def more(self) -> int:
        return max(0, len(self.items) - MONTH_CELL_LIMIT)

    @property
    def week_shown(self):
        return self.items[:WEEK_CELL_LIMIT]

    @property
    def week_more(self) -> int:
        return max(0, len(self.items) - WEEK_CELL_LIMIT)


def _range(view: str, anchor: date) -> tuple[date, date]:
    """[first day, day after the last) the view shows."""
    if view == "month":
        first = anchor.replace(day=1)
        start = first - timedelta(days=first.weekday())
        next_month = (first + timedelta(days=32)).replace(day=1)
        last = next_month - timedelta(days=1)
        end = last + timedelta(days=7 - last.weekday())
        return start, end
    if view == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=7)
    start = anchor - timedelta(days=anchor.weekday())
    return start, start + timedelta(days=14)


def _step(view: str, anchor: date, direction: int) -> date:
    if view == "month":
        if direction > 0:
            return (anchor.replace(day=1) + timedelta(days=32)).replace(day=1)
        return (anchor.replace(day=1) - timedelta(days=1)).replace(day=1)
    return anchor + timedelta(days=7 * direction * (1 if view == "week" else 2))


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def changes_in(start: datetime, end: datetime, filters: dict, user=None):
    """Changes with a planned window overlapping [start, end), filtered; of those ``user``
    may see, when given (under data separation, not another team's or customer's)."""
    changes = Change.objects.all() if user is None else Change.objects.visible_to(user)
    changes = changes.filter(planned_start__lt=end, planned_end__gt=start).exclude(
        state=ChangeState.CANCELLED
    )
    if filters.get("service"):
        changes = changes.filter(services=filters["service"])
    if filters.get("ci"):
        changes = changes.filter(configuration_items=filters["ci"])
    if filters.get("team"):
        changes = changes.filter(assignment_group=filters["team"])
    if filters.get("model"):
        changes = changes.filter(model=filters["model"])
    if filters.get("risk"):
        risk = filters["risk"]
        changes = changes.filter(Q(risk_override=risk) | Q(risk_override="", risk=risk))
    return changes


def _windows_in(filters: dict):
    windows = ScheduleWindow.objects.filter(active=True)
    if filters.get("ci") or filters.get("service"):
        scoped = Q()
        if filters.get("ci"):
            scoped |= Q(configuration_items=filters["ci"])
        if filters.get("service"):
            scoped |= Q(services=filters["service"])
        windows = windows.filter(
            scoped
            | Q(configuration_items__isnull=True, ci_classes__isnull=True, services__isnull=True)
        ).distinct()
    return windows


def items_in(start: datetime, end: datetime, filters: dict, user=None) -> list[Item]:
    """Everything the calendar draws in [start, end), by start: four queries. Changes and
    tasks are those ``user`` may see, when given."""
    changes = list(
        changes_in(start, end, filters, user)
        .order_by("planned_start", "pk")
        .values_list(
            "pk",
            "number",
            "title",
            "state",
            "risk",
            "risk_override",
            "planned_start",
            "planned_end",
            "on_hold",
        )
    )
    flagged: dict[int, set] = {}
    if changes:
        rows = conflicts.current(
            conflicts.Conflict.objects.filter(
                change__in=changes_in(start, end, filters, user).values("pk")
            )
        ).values_list("change_id", "kind")
        for change_id, kind in rows:
            flagged.setdefault(change_id, set()).add(kind)
    # One reverse() for all the rows: 2,000 reverse() calls were a third of items_in.
    head, tail = reverse("changes:detail", args=["CHG0000000"]).split("CHG0000000")
    state_names = dict(ChangeState.choices)
    items = []
    for pk, number, title, state, risk, override, p_start, p_end, on_hold in changes:
        kinds = flagged.get(pk, set())
        items.append(
            Item(
                "change",
                p_start,
                p_end,
                number,
                title,
                f"{head}{number}{tail}",
                str(state_names.get(state, state))
                + (f" · {gettext('on hold')}" if on_hold else ""),
                override or risk,
                bool(kinds),
                tuple(sorted(kinds)),
            )
        )
    tasks = ChangeTask.objects.all() if user is None else ChangeTask.objects.visible_to(user)
    tasks = tasks.filter(planned_start__lt=end, planned_end__gt=start).exclude(state="cancelled")
    if filters.get("team"):
        tasks = tasks.filter(assignment_group=filters["team"])
    if any(filters.get(k) for k in ("service", "ci", "model", "risk")):
        tasks = tasks.filter(change__in=changes_in(start, end, filters, user).values("pk"))
    for task in tasks.select_related("change").only(
        "pk", "number", "title", "state", "planned_start", "planned_end", "change__number"
    ):
        items.append(
            Item(
                "task",
                task.planned_start,
                task.planned_end,
                task.number,
                f"{task.title} ({task.change.number})",
                reverse("changes:task-detail", args=[task.number]),
                task.get_state_display(),
            )
        )
    for occurrence in windows_module.all_occurrences(_windows_in(filters), start, end):
        window = occurrence.window
        items.append(
            Item(
                window.kind,
                occurrence.start,
                occurrence.end,
                window.name,
                window.get_kind_display(),
                freeze=window.incident_id is not None,
            )
        )
    rank = {"blackout": 0, "maintenance": 1, "change": 2, "task": 3}
    items.sort(key=lambda i: (i.start, rank[i.kind], i.label))
    return items


def _days(start: date, end: date, items: list[Item], month: int | None) -> list[Day]:
    today = timezone.localdate()
    days = []
    current = start
    index: dict[date, Day] = {}
    while current < end:
        day = Day(current, month is None or current.month == month, current == today)
        days.append(day)
        index[current] = day
        current += timedelta(days=1)
    for item in items:
        first = max(timezone.localtime(item.start).date(), start)
        last_moment = timezone.localtime(item.end - timedelta(microseconds=1)).date()
        current = first
        while current <= last_moment and current < end:
            index[current].items.append(item)
            current += timedelta(days=1)
    return days


def calendar_context(request) -> tuple[dict, int]:
    form = CalendarFilterForm(request.GET or None, user=request.user)
    status = 200
    data = {}
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
        else:
            status = 400
    view = data.get("view") or "month"
    anchor = data.get("date") or timezone.localdate()
    filters = {k: data.get(k) for k in ("service", "ci", "team", "model", "risk")}
    first, after = _range(view, anchor)
    start, end = _aware(first), _aware(after)
    items = items_in(start, end, filters, request.user) if status == 200 else []
    days = _days(first, after, items, anchor.month if view == "month" else None)
    query = request.GET.copy()
    for key in ("date", "view"):
        query.pop(key, None)
    base = query.urlencode()
    context = {
        "form": form,
        "view": view,
        "views": VIEWS,
        "anchor": anchor,
        "first": first,
        "last": after - timedelta(days=1),
        "previous": _step(view, anchor, -1).isoformat(),
        "next": _step(view, anchor, 1).isoformat(),
        "today": timezone.localdate().isoformat(),
        "base_query": base,
        "days": days,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "items": items,
        "changes_shown": sum(1 for i in items if i.kind == "change"),
        "conflicted": sum(1 for i in items if i.conflicted),
        "timeline": _timeline(items, start, end) if view == "timeline" else [],
        "timeline_days": days if view == "timeline" else [],
        "is_change_manager": conflicts.may_manage_blackouts(request.user),
    }
    return context, status


def _timeline(items: list[Item], start: datetime, end: datetime) -> list[dict]:
    total = (end - start).total_seconds()
    rows = []
    for item in items[:TIMELINE_LIMIT]:
        left = max(0.0, (item.start - start).total_seconds() / total * 100)
        right = min(100.0, (item.end - start).total_seconds() / total * 100)
        rows.append({"item": item, "left": f"{left:.2f}", "width": f"{max(0.3, right - left):.2f}"})
    return rows


# Screens ------------------------------------------------------------------------------


@agent_required
@require_GET
def calendar(request):
    context, status = calendar_context(request)
    context["active_freezes"] = list(
        ScheduleWindow.objects.filter(
            kind=ScheduleWindow.Kind.BLACKOUT,
            incident__isnull=False,
            lifted_at__isnull=True,
            active=True,
            ends_at__gt=timezone.now(),
        ).select_related("incident")
    )
    template = "changes/calendar_body.html" if is_htmx(request) else "changes/calendar.html"
    return render(request, template, context, status=status)


@agent_required
@require_GET
def slots(request, number):
    """The scheduling assistant on the change page (an htmx fragment): the next free
    slots, each a button that saves it as the planned window through the change's
    normal edit."""
    change = Change.objects.visible_to(request.user).filter(number=number).first()
    if change is None:
        raise Http404
    minutes = parse_id(request.GET.get("duration", ""))
    duration = (
        timedelta(minutes=min(minutes, 60 * 24 * 14))
        if minutes
        else (
            change.planned_end - change.planned_start
            if change.planned_start
            and change.planned_end
            and change.planned_end > change.planned_start
            else timedelta(hours=1)
        )
    )
    found = conflicts.next_free_slots(change, duration, count=5)
    return render(
        request,
        "changes/_slots.html",
        {"change": change, "slots": found, "minutes": int(duration.total_seconds() // 60)},
    )


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@agent_required
@require_POST
def freeze(request):
    """Enter a freeze from the calendar or a major incident's page."""
    incident = None
    number = request.POST.get("incident", "").strip()
    if number:
        incident = Incident.objects.visible_to(request.user).filter(number=number).first()
        if incident is None:
            messages.error(
                request, gettext("There is no incident %(number)s.") % {"number": number}
            )
            return _back(request, reverse("changes:calendar"))
    until = None
    raw_until = request.POST.get("until", "").strip()
    if raw_until:
        field = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
        try:
            until = field.clean(raw_until)
        except ValidationError:
            messages.error(request, _("until: a date and time, YYYY-MM-DD HH:MM."))
            return _back(request, reverse("changes:calendar"))
    try:
        window = conflicts.freeze(
            request.user,
            name=request.POST.get("name", ""),
            incident=incident,
            until=until,
            services=[s for s in request.POST.getlist("services") if parse_id(s)],
            configuration_items=[
                c for c in request.POST.getlist("configuration_items") if parse_id(c)
            ],
        )
    except PermissionDenied:
        return render(request, "403.html", status=403)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return _back(request, reverse("changes:calendar"))
    held = window.held_changes.count()
    messages.success(
        request,
        ngettext(
            "Freeze %(window)s entered: %(count)s change on hold.",
            "Freeze %(window)s entered: %(count)s changes on hold.",
            held,
        )
        % {"window": window.name, "count": held},
    )
    return _back(request, reverse("changes:calendar"))


@agent_required
@require_POST
def lift(request, pk):
    window = ScheduleWindow.objects.filter(pk=pk).first()
    if window is None:
        raise Http404
    try:
        released = conflicts.lift(window, request.user)
    except PermissionDenied:
        return render(request, "403.html", status=403)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return _back(request, reverse("changes:calendar"))
    messages.success(
        request,
        ngettext(
            "Freeze %(window)s lifted: %(count)s change off hold.",
            "Freeze %(window)s lifted: %(count)s changes off hold.",
            len(released),
        )
        % {"window": window.name, "count": len(released)},
    )
    return _back(request, reverse("changes:calendar"))


def incident_panel(request, incident) -> dict | None:
    """On a major incident's page: its freezes, and a button to enter one (one query)."""
    if not getattr(incident, "major", False):
        return None
    freezes = list(
        ScheduleWindow.objects.filter(incident=incident, kind=ScheduleWindow.Kind.BLACKOUT)
        .order_by("-starts_at")
        .only("pk", "name", "starts_at", "ends_at", "lifted_at", "incident_id")
    )
    return {
        "freezes": freezes,
        "active": [w for w in freezes if w.lifted_at is None],
        "may_freeze": conflicts.may_manage_blackouts(request.user) if request else False,
    }


# The iCalendar feed -------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate_feed(user) -> str:
    """A new feed token for ``user`` (the old URL stops working); returned once."""
    if not user.is_agent:
        raise PermissionDenied
    token = CalendarFeed.new_token()
    CalendarFeed.objects.update_or_create(
        user=user,
        defaults={
            "token_hash": token_hash(token),
            "created_at": timezone.now(),
            "last_used_at": None,
        },
    )
    return token


def feed_user(token: str):
    """The person a feed token belongs to, or None (unknown, rotated, no longer staff)."""
    if not token or len(token) > 200:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=token_hash(token)).first()
    if feed is None or not feed.user.is_agent:
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(minutes=5):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user


def escape_text(value: str) -> str:
    """An iCalendar TEXT value: backslash, semicolon, comma and newlines escaped."""
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """A content line folded at 75 octets (continuations start with a space), never
    splitting a UTF-8 character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current, size, limit = [], [], 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74  # the leading space counts
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(items: list[Item], base_url: str, host: str, now: datetime | None = None) -> str:
    now = now or timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//ITSM//Change calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(gettext('Change calendar'))}",
    ]
    for item in items:
        uid = (
            f"{item.label}-{_utc(item.start)}@{host}"
            if item.kind
            in (
                "blackout",
                "maintenance",
            )
            else f"{item.label}@{host}"
        )
        summary = (
            f"{item.label} {item.title}"
            if item.kind in ("change", "task")
            else (f"{item.title}: {item.label}")
        )
        description = []
        if item.state:
            description.append(gettext("State: %(state)s") % {"state": item.state})
        if item.risk:
            description.append(gettext("Risk: %(risk)s") % {"risk": risk_word(item.risk)})
        if item.conflict_kinds:
            description.append(
                gettext("Conflicts: %(kinds)s")
                % {"kinds": ", ".join(k.replace("_", " ") for k in item.conflict_kinds)}
            )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(uid)}",
            f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(item.start)}",
            f"DTEND:{_utc(item.end)}",
            f"SUMMARY:{escape_text(summary)}",
        ]
        if description:
            lines.append(f"DESCRIPTION:{escape_text(chr(10).join(description))}")
        if item.url:
            lines.append(f"URL:{base_url}{item.url}")
        lines.append(f"CATEGORIES:{escape_text(item.kind)}")
        lines.append(
            "TRANSP:OPAQUE" if item.kind in ("change", "blackout") else "TRANSP:TRANSPARENT"
        )
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


@require_GET
def feed(request, token: str = ""):
    """``/changes/calendar.ics?token=…``: read-only, anonymous; a bad or rotated token is
    a 404."""
    user = feed_user(token or request.GET.get("token", ""))
    if user is None:
        raise Http404
    now = timezone.now()
    # In the feed's owner's language (a calendar application sends no useful one).
    language = user_language(user)
    with translation.override(language) if language else nullcontext():
        items = items_in(now - FEED_PAST, now + FEED_FUTURE, {}, user)[:FEED_LIMIT]
        body = ics(items, request.build_absolute_uri("/").rstrip("/"), request.get_host(), now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="changes.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@agent_required
def feed_page(request):
    """The person's feed: GET shows whether they have one; POST creates or rotates it and
    shows its URL, once."""
    url = ""
    if request.method == "POST":
        token = rotate_feed(request.user)
        url = request.build_absolute_uri(reverse("changes:calendar-feed") + f"?token={token}")
        messages.success(request, _("A new feed URL: copy it now, it is not shown again."))
    current = CalendarFeed.objects.filter(user=request.user).first()
    return render(request, "changes/calendar_feed.html", {"feed": current, "url": url})
