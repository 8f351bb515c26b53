"""Saving calendars and agreements with their parts, as the API does (the admin screens use
Django's inlines). One transaction each; model validation on every part; parts given are
replaced as a whole."""

from django.core.exceptions import ValidationError
from django.db import transaction

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


@transaction.atomic
def save_calendar(calendar: BusinessCalendar | None, data: dict) -> BusinessCalendar:
    data = dict(data)
    periods = data.pop("working_periods", None)
    closed = data.pop("closed_days", None)
    calendar = calendar or BusinessCalendar()
    _set(calendar, data)
    _clean(calendar)
    calendar.save()
    if periods is not None:
        calendar.working_periods.all().delete()
        for index, fields in enumerate(periods):
            period = WorkingPeriod(calendar=calendar, **fields)
            _clean(period, f"working_periods[{index}].")
            period.save()
    if closed is not None:
        calendar.closed_days.all().delete()
        seen = set()
        for index, fields in enumerate(closed):
            if fields["date"] in seen:
                raise ValidationError({f"closed_days[{index}].date": "This day is listed twice."})
            seen.add(fields["date"])
            day = ClosedDay(calendar=calendar, **fields)
            _clean(day, f"closed_days[{index}].")
            day.save()
    if not calendar.always_open and not calendar.working_periods.exists():
        raise ValidationError(
            {"working_periods": "A calendar that is not 24x7 needs working hours."}
        )
    calendar.touch()
    calendar.refresh_from_db()
    return calendar


@transaction.atomic
def save_agreement(agreement: Agreement | None, data: dict) -> Agreement:
    data = dict(data)
    targets = data.pop("targets", None)
    thresholds = data.pop("thresholds", None)
    agreement = agreement or Agreement()
    _set(agreement, data)
    model = agreement.record_type.model_class() if agreement.record_type_id else None
    if model not in registry.models():
        raise ValidationError({"record_type": "Service levels do not apply to this record type."})
    _clean(agreement)
    agreement.save()
    if targets is not None:
        if agreement.timers.exists() and {
            (t.metric, t.duration, t.calendar_id) for t in agreement.targets.all()
        } != {(t["metric"], t["duration"], t["calendar"].pk) for t in targets}:
            raise ValidationError(
                {"targets": "Timers run on these targets; make a new agreement to change them."}
            )
        if not agreement.timers.exists():
            agreement.targets.all().delete()
            metrics = set()
            for index, fields in enumerate(targets):
                if fields["metric"] in metrics:
                    raise ValidationError({f"targets[{index}].metric": "One target per metric."})
                metrics.add(fields["metric"])
                target = Target(agreement=agreement, **fields)
                _clean(target, f"targets[{index}].")
                target.save()
    if thresholds is not None:
        agreement.thresholds.exclude(percent__in=[t["percent"] for t in thresholds]).delete()
        for index, fields in enumerate(thresholds):
            threshold = agreement.thresholds.filter(percent=fields["percent"]).first()
            threshold = threshold or Threshold(agreement=agreement)
            _set(threshold, fields)
            _clean(threshold, f"thresholds[{index}].")
            threshold.save()
    if not agreement.targets.exists():
        raise ValidationError({"targets": "An agreement needs at least one target."})
    return agreement
