"""SLA badges on records: ``{% sla_badges record %}`` (the queue, compact),
``{% sla_panel record %}`` (the record page) and ``{% sla_portal_target record %}`` (what the
caller sees). The server renders the text, so the badges read right without JavaScript;
``static/js/sla.js`` counts them down from ``data-sla-due``.

Colour by the share of the target's business time left: more than half ``sla-ok``, a
quarter to a half ``sla-warn``, less ``sla-danger``; ``sla-overdue`` once due, ``sla-paused``
while the clock stands still, ``sla-met`` and ``sla-breached`` when stopped."""

from dataclasses import dataclass
from datetime import datetime

from django import template
from django.contrib.contenttypes.models import ContentType
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from practices.service_level import services
from practices.service_level.models import Agreement, Target, Timer
from practices.service_level.queries import sla_timers_prefetch

register = template.Library()

State = Timer.State
VERBS = {Target.Metric.RESPONSE: _("Respond"), Target.Metric.RESOLUTION: _("Resolve")}
WARN_SHARE = 0.5  # amber at or below half the target left
DANGER_SHARE = 0.25  # red at or below a quarter


def countdown(seconds: float) -> str:
    """Wall-clock time to or past a due time, as ``sla.js`` writes it: 2d 3h, 3h 05m, 4m 09s."""
    total = int(max(seconds, 0))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def business(seconds: float) -> str:
    """Business time (working hours, so no days): 1h 05m, 12m."""
    minutes = int(max(seconds, 0) // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


@register.filter
def hours_minutes(seconds) -> str:
    """Seconds as hours and minutes (``{{ seconds|hours_minutes }}``)."""
    try:
        return business(float(seconds))
    except (TypeError, ValueError):
        return ""


def local(moment: datetime | None) -> str:
    """A moment in the reader's time zone, the zone named (Mon 7 Dec, 18:00 CET)."""
    return date_format(timezone.localtime(moment), "D j M, H:i T") if moment else "—"


def kind_of(timer: Timer) -> str:
    """The agreement's kind as people abbreviate it: SLA, OLA, UC."""
    return timer.agreement.kind.upper()


@dataclass
class Badge:
    timer: Timer
    label: str
    css: str
    text: str
    title: str
    due: datetime | None = None  # counts down (or up, once overdue) in the browser
    warn_at: datetime | None = None
    danger_at: datetime | None = None

    def html(self, now: datetime):
        if self.due is None:
            return format_html(
                '<span class="badge sla {}" title="{}">{}</span>', self.css, self.title, self.text
            )
        return format_html(
            '<span class="badge sla {}" title="{}" data-sla-label="{}" data-sla-due="{}" '
            'data-sla-now="{}"{}{}>{}</span>',
            self.css,
            self.title,
            self.label,
            self.due.isoformat(),
            now.isoformat(),
            format_html(' data-sla-warn="{}"', self.warn_at.isoformat()) if self.warn_at else "",
            format_html(' data-sla-danger="{}"', self.danger_at.isoformat())
            if self.danger_at
            else "",
            self.text,
        )


def share_class(share: float) -> str:
    if share > WARN_SHARE:
        return "sla-ok"
    if share > DANGER_SHARE:
        return "sla-warn"
    return "sla-danger"


def badge(timer: Timer, now: datetime, named: bool = True) -> Badge:
    """How one timer looks now: the label says which agreement's target it is (SLA
    Resolve, OLA Resolve), the title names the agreement; a running clock counts down to
    its due time, a paused one says how much working time is left."""
    label = str(VERBS.get(timer.metric, timer.name))
    if named:  # staff tell the agreements apart; an end user has only their SLA
        label = f"{kind_of(timer)} {label}"
    about = f"{timer.agreement.name} · {timer.name}"
    target = timer.target_seconds
    if timer.state == State.MET:
        return Badge(
            timer,
            label,
            "sla-met",
            f"✓ {label}",
            gettext("%(about)s: met %(at)s, %(used)s of %(target)s working time")
            % {
                "about": about,
                "at": local(timer.stopped_at),
                "used": business(timer.business_elapsed),
                "target": business(target),
            },
        )
    if timer.stopped_at is not None:  # breached and stopped
        over = timer.business_elapsed - target
        return Badge(
            timer,
            label,
            "sla-breached",
            gettext("✗ %(label)s over %(time)s") % {"label": label, "time": business(over)},
            gettext(
                "%(about)s: breached, due %(due)s, stopped %(stopped)s, %(time)s of working "
                "time over target"
            )
            % {
                "about": about,
                "due": local(timer.breached_at or timer.due_at),
                "stopped": local(timer.stopped_at),
                "time": business(over),
            },
        )
    if timer.paused_at is not None or timer.due_at is None:
        left = services.seconds_left(timer, now)
        if timer.breached or left < 0:
            return Badge(
                timer,
                label,
                "sla-breached sla-paused",
                gettext("%(label)s paused · %(time)s working time over")
                % {"label": label, "time": business(-left)},
                gettext(
                    "%(about)s: breached; the clock is paused, %(time)s of working time over target"
                )
                % {"about": about, "time": business(-left)},
            )
        return Badge(
            timer,
            label,
            "sla-paused",
            gettext("%(label)s paused · %(time)s working time left")
            % {"label": label, "time": business(left)},
            gettext("%(about)s: paused since %(at)s, %(time)s of working time left")
            % {"about": about, "at": local(timer.paused_at), "time": business(left)},
        )
    wall = (timer.due_at - now).total_seconds()
    if timer.breached or wall <= 0:
        return Badge(
            timer,
            label,
            "sla-overdue",
            gettext("%(label)s overdue %(time)s") % {"label": label, "time": countdown(-wall)},
            gettext("%(about)s: breached, was due %(due)s")
            % {"about": about, "due": local(timer.due_at)},
            due=timer.due_at,
        )
    left = services.seconds_left(timer, now)
    calendar = services.engine(timer.target.calendar)
    marks = {}
    for name, share in (("warn_at", WARN_SHARE), ("danger_at", DANGER_SHARE)):
        if left > share * target:
            marks[name] = calendar.add(now, left - share * target)
    return Badge(
        timer,
        label,
        share_class(left / target if target else 0),
        f"{label} {countdown(wall)}",
        gettext("%(about)s: due %(due)s, %(time)s of working time left")
        % {"about": about, "due": local(timer.due_at), "time": business(left)},
        due=timer.due_at,
        **marks,
    )


def live_timers(record) -> list[Timer]:
    """The record's timers that are not cancelled (prefetched by the list or page, else
    fetched here with the same query)."""
    prefetch_related_objects([record], sla_timers_prefetch())
    return [t for t in record.sla_timers.all() if t.state != State.CANCELLED]


#: Which badge a queue row shows first: overdue, then counting down, paused, stopped.
URGENCY = {"sla-overdue": 0, "sla-danger": 1, "sla-warn": 2, "sla-ok": 3}


def _urgency(shown: Badge) -> tuple:
    if shown.timer.stopped_at is not None:
        return (6, 0)
    if shown.due is None:  # paused
        return (5 if "sla-breached" not in shown.css else 0, 0)
    return (URGENCY.get(shown.css, 4), shown.due.timestamp())


@register.simple_tag
def sla_badges(record):
    """A queue row's badge: the most urgent of its targets, one line; the others are
    counted beside it ("+2") and named in its tooltip."""
    now = timezone.now()
    badges = sorted((badge(timer, now) for timer in live_timers(record)), key=_urgency)
    if not badges:
        return ""
    first, others = badges[0], badges[1:]
    more = ""
    if others:
        more = format_html(
            ' <span class="badge sla-more" title="{}">+{}</span>',
            "\n".join(f"{b.text} ({b.title})" for b in others),
            len(others),
        )
    return format_html('<span class="sla-badges">{}{}</span>', first.html(now), more)


@register.simple_tag
def sla_timer_badge(timer):
    """One timer's badge, wherever timers are listed without their record."""
    now = timezone.now()
    return badge(timer, now).html(now)


@register.inclusion_tag("service_level/_panel.html")
def sla_panel(record):
    """The record page's "Service levels" panel: every target with its badge and times."""
    now = timezone.now()
    rows = []
    for timer in live_timers(record):
        shown = badge(timer, now)
        rows.append({"timer": timer, "badge": shown, "html": shown.html(now)})
    return {"rows": rows}


@register.inclusion_tag("service_level/_portal_target.html")
def sla_portal_target(record):
    """What the caller is promised: the resolution target of the customer SLA."""
    timer = (
        Timer.objects.filter(
            content_type=ContentType.objects.get_for_model(record),
            object_id=record.pk,
            metric=Target.Metric.RESOLUTION,
            agreement__kind=Agreement.Kind.SLA,
        )
        .exclude(state=State.CANCELLED)
        .select_related("target__calendar", "agreement")
        .order_by("-pk")
        .first()
    )
    if timer is None:
        return {}
    now = timezone.now()
    shown = badge(timer, now, named=False)
    return {"timer": timer, "badge": shown, "html": shown.html(now)}
