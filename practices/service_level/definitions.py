"""Saving calendars and agreements with their parts, as the API does (the admin screens use
Django's inlines). One transaction each; model validation on every part; parts given are
replaced as a whole."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core import writes

from . import registry
from .models import Agreement, BusinessCalendar, ClosedDay, Target, Threshold, WorkingPeriod


def _clean(obj, prefix: str = "") -> None:
    try:
        obj.full_clean(exclude=["calendar", "agreement"])
    except ValidationError as error:
        raise ValidationError(
            {f"{prefix}{field}": messages for field, messages in error.message_dict.items()}
        ) from None


def _set(instance, fields: dict) -> None:
    for name, value in fields.items():
        setattr(instance, name, value)


CALENDAR_FIELDS = ("name", "time_zone", "always_open", "holiday_country", "holiday_subdivision")
CALENDAR_PARTS = ("working_periods", "closed_days")


def _calendar_parts(calendar: BusinessCalendar, actor, change: writes.Write) -> None:
    """Hours and closed days, given as a whole, replace the calendar's; the journal says
    what they were and became."""
    parts = change.options.get("parts") or {}
    periods, closed = parts.get("working_periods"), parts.get("closed_days")
    if periods is not None:
        old = [str(p) for p in calendar.working_periods.all()]
        calendar.working_periods.all().delete()
        for index, fields in enumerate(periods):
            period = WorkingPeriod(calendar=calendar, **fields)
            _clean(period, f"working_periods[{index}].")
            period.save()
        new = [str(p) for p in calendar.working_periods.all()]
        if old != new:
            change.diff["working_periods"] = [old, new]
    if closed is not None:
        old = [str(d) for d in calendar.closed_days.all()]
        calendar.closed_days.all().delete()
        seen = set()
        for index, fields in enumerate(closed):
            if fields["date"] in seen:
                raise ValidationError(
                    {f"closed_days[{index}].date": gettext("This day is listed twice.")}
                )
            seen.add(fields["date"])
            day = ClosedDay(calendar=calendar, **fields)
            _clean(day, f"closed_days[{index}].")
            day.save()
        new = [str(d) for d in calendar.closed_days.all()]
        if old != new:
            change.diff["closed_days"] = [old, new]
    if not calendar.always_open and not calendar.working_periods.exists():
        raise ValidationError(
            {"working_periods": gettext("A calendar that is not 24x7 needs working hours.")}
        )


CALENDAR_SPEC = writes.WriteSpec(
    model=BusinessCalendar,
    create=writes.Access(staff=CALENDAR_FIELDS),
    update=writes.Access(staff=CALENDAR_FIELDS),
    full_clean=True,
    created_data=lambda calendar: {"name": calendar.name},
    saved=_calendar_parts,
)


def save_calendar(calendar: BusinessCalendar | None, data: dict, actor=None, expected_version=None):
    data = dict(data)
    parts = {name: data.pop(name) for name in CALENDAR_PARTS if name in data}
    if calendar is None:
        return writes.open(CALENDAR_SPEC, actor, data, parts=parts)
    return writes.change(CALENDAR_SPEC, calendar, actor, data, expected_version, parts=parts)


AGREEMENT_FIELDS = (
    "name",
    "kind",
    "record_type",
    "order",
    "active",
    "description",
    "priorities",
    "service",
    "organization",
    "conditions",
    "team",
    "supplier",
    "pause_when",
    "run_when",
    "on_priority_change",
)


def _check_agreement(agreement: Agreement, changed=None) -> None:
    model = agreement.record_type.model_class() if agreement.record_type_id else None
    if model not in registry.models():
        raise ValidationError(
            {"record_type": _("Service levels do not apply to this record type.")}
        )


def _agreement_parts(agreement: Agreement, actor, change: writes.Write) -> None:
    parts = change.options.get("parts") or {}
    targets, thresholds = parts.get("targets"), parts.get("thresholds")
    if targets is not None:
        old = sorted((t.metric, t.duration, t.calendar_id) for t in agreement.targets.all())
        new = sorted((t["metric"], t["duration"], t["calendar"].pk) for t in targets)
        if agreement.timers.exists() and set(old) != set(new):
            raise ValidationError(
                {
                    "targets": gettext(
                        "Timers run on these targets; make a new agreement to change them."
                    )
                }
            )
        if not agreement.timers.exists():
            agreement.targets.all().delete()
            metrics = set()
            for index, fields in enumerate(targets):
                if fields["metric"] in metrics:
                    raise ValidationError(
                        {f"targets[{index}].metric": gettext("One target per metric.")}
                    )
                metrics.add(fields["metric"])
                target = Target(agreement=agreement, **fields)
                _clean(target, f"targets[{index}].")
                target.save()
            if old != new:
                change.diff["targets"] = [[str(t) for t in old], [str(t) for t in new]]
    if thresholds is not None:
        old = sorted(agreement.thresholds.values_list("percent", flat=True))
        agreement.thresholds.exclude(percent__in=[t["percent"] for t in thresholds]).delete()
        for index, fields in enumerate(thresholds):
            threshold = agreement.thresholds.filter(percent=fields["percent"]).first()
            threshold = threshold or Threshold(agreement=agreement)
            _set(threshold, fields)
            _clean(threshold, f"thresholds[{index}].")
            threshold.save()
        change.diff["thresholds"] = [old, sorted(t["percent"] for t in thresholds)]
    if not agreement.targets.exists():
        raise ValidationError({"targets": _("An agreement needs at least one target.")})


AGREEMENT_SPEC = writes.WriteSpec(
    model=Agreement,
    create=writes.Access(staff=AGREEMENT_FIELDS),
    update=writes.Access(staff=AGREEMENT_FIELDS),
    validate=_check_agreement,
    full_clean=True,
    created_data=lambda agreement: {"name": agreement.name, "kind": agreement.kind},
    saved=_agreement_parts,
)


def save_agreement(agreement: Agreement | None, data: dict, actor=None, expected_version=None):
    data = dict(data)
    parts = {name: data.pop(name) for name in ("targets", "thresholds") if name in data}
    if agreement is None:
        return writes.open(AGREEMENT_SPEC, actor, data, parts=parts)
    return writes.change(AGREEMENT_SPEC, agreement, actor, data, expected_version, parts=parts)
