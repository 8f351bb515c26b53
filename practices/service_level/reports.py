"""The SLA compliance report: targets stopped in a period (met or breached), grouped by
agreement, service, priority, team, week or month, with the share met, a trend over the
last twelve weeks or months, and, next to the percentages, what the breaches cost (the
"watermelon SLA": green on the outside, red inside): breaches of priority 1 and 2 and the
business time over target. Everything is aggregated by the database; nothing here loops
over timers in Python (only over the few groups, periods and the breaches shown)."""

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, FloatField, Max, Q, Sum, Value, When
from django.db.models.functions import Greatest, TruncMonth, TruncWeek
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from itsm.core.exports import safe_cell
from itsm.core.i18n import said
from itsm.core.models import JournalEntry
from itsm.core.services import write_journal

from .models import Agreement, Target, Timer

State = Timer.State
STOPPED = [State.MET, State.BREACHED]
HIGH_PRIORITIES = 2  # priorities 1 and 2 are the breaches that hurt the business most
TREND_PERIODS = 12
BREACHES_SHOWN = 100
REASON_MAX = 500
#: Bars of the trend chart: at least this share met is green, then amber, below red.
GOOD_SHARE, FAIR_SHARE = 90.0, 75.0

PERIODS = [
    ("this_week", _("This week")),
    ("last_week", _("Last week")),
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("custom", _("From … to …")),
]
GROUPS = [
    ("agreement", _("Agreement")),
    ("service", _("Service")),
    ("priority", _("Priority")),
    ("team", _("Team")),
    ("week", _("Week")),
    ("month", _("Month")),
]


class ReportForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False)
    date_from = forms.DateField(required=False, label=_("From"))
    date_to = forms.DateField(required=False, label=_("To"))
    group = forms.ChoiceField(choices=GROUPS, required=False, label=_("Group by"))
    kind = forms.ChoiceField(
        choices=[("", _("All agreements")), *Agreement.Kind.choices], required=False
    )
    metric = forms.ChoiceField(
        choices=[("", _("All targets")), *Target.Metric.choices], required=False, label=_("Target")
    )

    def clean(self):
        data = super().clean()
        data["period"] = data.get("period") or "this_month"
        data["group"] = data.get("group") or "agreement"
        if data["period"] == "custom":
            start, end = data.get("date_from"), data.get("date_to")
            if not start:
                self.add_error("date_from", gettext("Give the first day of the period."))
            if not end:
                self.add_error("date_to", gettext("Give the last day of the period."))
            if start and end and end < start:
                self.add_error("date_to", gettext("The period must end on or after its first day."))
            if start and end and (end - start).days > 3 * 366:
                self.add_error("date_to", gettext("At most three years at a time."))
        return data


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month_start(day: date, back: int = 0) -> date:
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def period_bounds(data: dict, today: date | None = None) -> tuple[datetime, datetime]:
    """[start, end) of the chosen period, at midnight in the user's time zone."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    period = data["period"]
    if period == "this_week":
        first, after = monday, monday + timedelta(days=7)
    elif period == "last_week":
        first, after = monday - timedelta(days=7), monday
    elif period == "last_month":
        first, after = _month_start(today, 1), _month_start(today)
    elif period == "custom":
        first, after = data["date_from"], data["date_to"] + timedelta(days=1)
    else:  # this month
        first, after = _month_start(today), _month_start(today, -1)
    return _midnight(first), _midnight(after)


# Aggregation ---------------------------------------------------------------------------------


def stopped_timers(start: datetime, end: datetime, kind: str = "", metric: str = ""):
    """Timers that stopped in [start, end), met or breached (cancelled ones do not count)."""
    timers = Timer.objects.filter(stopped_at__gte=start, stopped_at__lt=end, state__in=STOPPED)
    if kind:
        timers = timers.filter(agreement__kind=kind)
    if metric:
        timers = timers.filter(metric=metric)
    return timers


def over_target():
    """Business seconds over target of a stopped timer (elapsed - target, never below 0).
    Targets are few: their durations go into the query as a CASE, which works the same on
    every database (a duration column is an interval on one and microseconds on another)."""
    durations = Target.objects.order_by().values_list("pk", "duration")
    target = Case(
        *[When(target_id=pk, then=Value(d.total_seconds())) for pk, d in durations],
        default=Value(0.0),
        output_field=FloatField(),
    )
    return Greatest(F("business_elapsed") - target, Value(0.0), output_field=FloatField())


def figures(over) -> dict:
    breached = Q(state=State.BREACHED)
    return {
        "total": Count("pk"),
        "met": Count("pk", filter=Q(state=State.MET)),
        "breached": Count("pk", filter=breached),
        "high": Count("pk", filter=breached & Q(priority__lte=HIGH_PRIORITIES)),
        "over": Sum(over, filter=breached),
        "longest": Max(over, filter=breached),
    }


GROUP_FIELDS = {
    "agreement": ("agreement", "agreement__name", "agreement__kind"),
    "service": ("service", "service__name"),
    "priority": ("priority",),
    "team": ("team", "team__name"),
    "week": ("bucket",),
    "month": ("bucket",),
}
GROUP_ORDER = {
    "agreement": ["agreement__name", "agreement"],
    "service": [F("service__name").asc(nulls_last=True), "service"],
    "priority": [F("priority").asc(nulls_last=True)],
    "team": [F("team__name").asc(nulls_last=True), "team"],
    "week": ["bucket"],
    "month": ["bucket"],
}


def label_of(group: str, row: dict) -> tuple[str, str]:
    """(label, note) of a group row."""
    if group == "agreement":
        name, kind = row["agreement__name"], row["agreement__kind"].upper()
        # "Network team OLA" says its kind already: no "Network team OLA OLA".
        return name, ("" if kind in name.upper().split() else kind)
    if group == "service":
        return row["service__name"] or gettext("No service"), ""
    if group == "priority":
        return (f"P{row['priority']}" if row["priority"] else gettext("No priority")), ""
    if group == "team":
        return row["team__name"] or gettext("No team"), ""
    bucket = timezone.localtime(row["bucket"]).date()
    if group == "week":
        year, week, _weekday = bucket.isocalendar()
        return f"{year}-W{week:02d}", gettext("from %(day)s") % {"day": format_date(bucket, "d M")}
    return format_date(bucket, "F Y"), ""


@dataclass
class Row:
    label: str
    note: str = ""
    total: int = 0
    met: int = 0
    breached: int = 0
    high: int = 0
    over: float = 0.0
    longest: float = 0.0

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.met / self.total, 1) if self.total else None

    @property
    def average_over(self) -> float:
        return self.over / self.breached if self.breached else 0.0


def row_of(label: str, note: str, values: dict) -> Row:
    return Row(
        label=label,
        note=note,
        total=values["total"],
        met=values["met"],
        breached=values["breached"],
        high=values["high"],
        over=values["over"] or 0.0,
        longest=values["longest"] or 0.0,
    )


def grouped(timers, group: str, over) -> list[Row]:
    if group in ("week", "month"):
        trunc = TruncWeek if group == "week" else TruncMonth
        timers = timers.annotate(bucket=trunc("stopped_at"))
    rows = (
        timers.order_by()
        .values(*GROUP_FIELDS[group])
        .annotate(**figures(over))
        .order_by(*GROUP_ORDER[group])
    )
    return [row_of(*label_of(group, row), row) for row in rows]


def total_of(rows: list[Row]) -> Row:
    """The whole period: sums of the groups (every timer is in exactly one group)."""
    return Row(
        label=_("All"),
        total=sum(r.total for r in rows),
        met=sum(r.met for r in rows),
        breached=sum(r.breached for r in rows),
        high=sum(r.high for r in rows),
        over=sum(r.over for r in rows),
        longest=max((r.longest for r in rows), default=0.0),
    )


# Trend ---------------------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    start: date
    total: int
    met: int
    percent: float | None
    x: float = 0
    cx: float = 0
    y: float = 0
    height: float = 0
    band: str = "none"


@dataclass
class Chart:
    width: int = 640
    height: int = 190
    left: int = 40
    right: int = 8
    top: int = 16
    bottom: int = 34
    bars: list[Bar] = field(default_factory=list)
    bar_width: float = 0
    grid: list[tuple[int, float]] = field(default_factory=list)  # (percent, y)
    unit: str = "week"

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> int:
        return self.height - self.bottom


def trend_buckets(end: datetime, unit: str) -> list[date]:
    """The first days of the last twelve weeks or months up to the one ``end`` falls in."""
    last = timezone.localtime(end - timedelta(microseconds=1)).date()
    if unit == "week":
        monday = last - timedelta(days=last.weekday())
        return [monday - timedelta(weeks=n) for n in range(TREND_PERIODS - 1, -1, -1)]
    return [_month_start(last, n) for n in range(TREND_PERIODS - 1, -1, -1)]


def trend(end: datetime, unit: str, kind: str = "", metric: str = "") -> Chart:
    starts = trend_buckets(end, unit)
    after = starts[-1] + timedelta(weeks=1) if unit == "week" else _month_start(starts[-1], -1)
    trunc = TruncWeek if unit == "week" else TruncMonth
    counted = {
        timezone.localtime(row["bucket"]).date(): row
        for row in stopped_timers(_midnight(starts[0]), _midnight(after), kind, metric)
        .annotate(bucket=trunc("stopped_at"))
        .order_by()
        .values("bucket")
        .annotate(total=Count("pk"), met=Count("pk", filter=Q(state=State.MET)))
    }
    chart = Chart(unit=unit)
    step = (chart.width - chart.left - chart.right) / len(starts)
    chart.bar_width = round(step * 0.64, 1)
    for index, start in enumerate(starts):
        row = counted.get(start, {"total": 0, "met": 0})
        percent = round(100.0 * row["met"] / row["total"], 1) if row["total"] else None
        if unit == "week":
            label = f"W{start.isocalendar()[1]:02d}"
        else:
            label = format_date(start, "M" if start.month != 1 else "M y")
        bar = Bar(label=label, start=start, total=row["total"], met=row["met"], percent=percent)
        bar.x = round(chart.left + index * step + (step - chart.bar_width) / 2, 1)
        bar.cx = round(bar.x + chart.bar_width / 2, 1)
        bar.height = round(chart.plot_height * (percent or 0) / 100, 1)
        bar.y = round(chart.baseline - bar.height, 1)
        if percent is not None:
            bar.band = (
                "good" if percent >= GOOD_SHARE else "fair" if percent >= FAIR_SHARE else "poor"
            )
        chart.bars.append(bar)
    chart.grid = [(p, chart.top + chart.plot_height * (100 - p) / 100) for p in (0, 50, 100)]
    return chart


# Breaches ------------------------------------------------------------------------------------


def record_url(timer: Timer) -> str | None:
    """The agent page of the timer's record: by convention ``<app>:detail`` with its number."""
    try:
        return reverse(f"{timer.content_type.app_label}:detail", args=[timer.record_number])
    except NoReverseMatch:
        return None


def breaches(timers, over, limit: int = BREACHES_SHOWN) -> list[Timer]:
    """The breached timers of the period, the largest overrun first."""
    found = list(
        timers.filter(state=State.BREACHED)
        .annotate(over=over)
        .select_related("content_type", "agreement", "target", "team")
        .order_by("-over", "-stopped_at", "pk")[:limit]
    )
    for timer in found:
        timer.url = record_url(timer)
    return found


# The report ----------------------------------------------------------------------------------


@dataclass
class Report:
    start: datetime
    end: datetime
    group: str
    rows: list[Row]
    total: Row
    chart: Chart
    breaches: list[Timer]
    open_breaches: int

    @property
    def last_day(self) -> date:
        return timezone.localtime(self.end - timedelta(microseconds=1)).date()

    @property
    def watermelon(self) -> bool:
        """Green outside, red inside: the share met looks good, yet important breaches."""
        percent = self.total.percent
        return percent is not None and percent >= GOOD_SHARE and self.total.high > 0


def build(data: dict) -> Report:
    start, end = period_bounds(data)
    kind, metric, group = data.get("kind", ""), data.get("metric", ""), data["group"]
    over = over_target()
    timers = stopped_timers(start, end, kind, metric)
    rows = grouped(timers, group, over)
    if group in ("week", "month"):
        unit = group
    else:
        unit = "month" if data["period"] in ("this_month", "last_month") else "week"
    return Report(
        start=start,
        end=end,
        group=group,
        rows=rows,
        total=total_of(rows),
        chart=trend(end, unit, kind, metric),
        breaches=breaches(timers, over),
        open_breaches=Timer.objects.filter(state=State.BREACHED, stopped_at=None).count(),
    )


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f}"


CSV_HEADER = [
    "group",
    "kind",
    "stopped",
    "met",
    "breached",
    "percent_met",
    "p1_p2_breaches",
    "hours_over_target",
    "average_hours_over",
    "longest_hours_over",
]


def write_csv(report: Report, out) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in [*report.rows, report.total]:
        writer.writerow(
            [
                safe_cell(row.label),
                safe_cell(row.note) if report.group == "agreement" else "",
                row.total,
                row.met,
                row.breached,
                "" if row.percent is None else f"{row.percent:.1f}",
                row.high,
                hours(row.over),
                hours(row.average_over),
                hours(row.longest),
            ]
        )


# Breach reasons ------------------------------------------------------------------------------


class BreachReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX,
        required=False,
        strip=True,
        error_messages={
            "max_length": _("At most %(limit_value)d characters (this is %(show_value)d).")
        },
    )


def record_breach_reason(timer: Timer, actor, reason: str) -> Timer:
    """Why a target was missed: kept on the timer and written to the record's journal as an
    internal SLA entry, together."""
    with transaction.atomic():
        timer = Timer.objects.select_for_update().select_related("content_type").get(pk=timer.pk)
        if not timer.breached:
            raise ValidationError({"reason": _("Only a breached target has a breach reason.")})
        if timer.breach_reason == reason:
            return timer
        timer.breach_reason = reason
        timer.updated_at = timezone.now()
        timer.save(update_fields=["breach_reason", "updated_at"])
        write_journal(
            timer.record,
            JournalEntry.Kind.SLA,
            actor,
            body=said(
                gettext_noop("%(timer)s: breach reason recorded: %(reason)s"),
                timer=timer.name,
                reason=reason,
            )
            if reason
            else said(gettext_noop("%(timer)s: breach reason cleared"), timer=timer.name),
            data={"timer": timer.pk, "state": timer.state, "breach_reason": reason},
            internal=True,
        )
    return timer


# Live figures for the practice map -----------------------------------------------------------


def kpis() -> list[tuple[str, str]]:
    now = timezone.now()
    recent = Timer.objects.filter(
        stopped_at__gte=now - timedelta(days=30), state__in=STOPPED
    ).aggregate(
        total=Count("pk"),
        met=Count("pk", filter=Q(state=State.MET)),
        high=Count("pk", filter=Q(state=State.BREACHED, priority__lte=HIGH_PRIORITIES)),
    )
    open_breaches = Timer.objects.filter(state=State.BREACHED, stopped_at=None).count()
    soon = Timer.objects.filter(state=State.RUNNING, due_at__lte=now + timedelta(hours=1)).count()
    share = f"{100.0 * recent['met'] / recent['total']:.1f}%" if recent["total"] else "—"
    return [
        (_("Targets met (30 days)"), share),
        (_("Targets stopped (30 days)"), str(recent["total"])),
        (_("P1/P2 breaches (30 days)"), str(recent["high"])),
        (_("Open breaches"), str(open_breaches)),
        (_("Due within the hour"), str(soon)),
    ]
