"""Service level management: business calendars, agreements (SLA, OLA, underpinning
contracts) with their targets and escalation thresholds, and the timers that run on records."""

from datetime import timedelta

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.accounts.models import TIME_ZONE_CHOICES
from itsm.core.models import Tracked

from .conditions import check_agreement


class BusinessCalendar(Tracked):
    """When the clock runs: working hours per weekday in a time zone, public holidays of a
    country (and region), the organization's own closed days; or around the clock."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    time_zone = models.CharField(
        max_length=64, choices=TIME_ZONE_CHOICES, default="UTC", verbose_name=_("time zone")
    )
    always_open = models.BooleanField(_("24x7"), default=False)
    holiday_country = models.CharField(
        max_length=3,
        blank=True,
        help_text=_("ISO country code for public holidays, e.g. DE."),
        verbose_name=_("holiday country"),
    )
    holiday_subdivision = models.CharField(
        max_length=10,
        blank=True,
        help_text=_("Region, e.g. BY for Bavaria (optional)."),
        verbose_name=_("holiday subdivision"),
    )
    # ``version`` is bumped on every change of the calendar, its hours or closed days (it
    # is also the calendar engine's cache key).

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self):
        return self.name

    def touch(self) -> None:
        """Hours or closed days changed: calendars cached by the processes are rebuilt."""
        BusinessCalendar.objects.filter(pk=self.pk).update(version=models.F("version") + 1)

    def clean(self):
        if self.holiday_country:
            import holidays

            try:
                holidays.country_holidays(
                    self.holiday_country.upper(), subdiv=self.holiday_subdivision or None
                )
            except NotImplementedError:
                raise ValidationError(
                    {
                        "holiday_country": gettext("No public holidays known for '%(country)s'.")
                        % {"country": self.holiday_country}
                    }
                ) from None
            except Exception as exc:  # the package rejects an unknown region
                raise ValidationError({"holiday_subdivision": str(exc)}) from None


class WorkingPeriod(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="working_periods",
        verbose_name=_("calendar"),
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, verbose_name=_("weekday"))
    start = models.TimeField(verbose_name=_("start"))
    end = models.TimeField(
        help_text=_("00:00 means midnight at the end of the day."), verbose_name=_("end")
    )

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def minutes(self) -> tuple[int, int]:
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute or 1440
        return start, end

    def clean(self):
        start, end = self.minutes
        if end <= start:
            raise ValidationError({"end": _("The period must end after it starts.")})


class ClosedDay(models.Model):
    """A day the organization is closed (beyond public holidays)."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="closed_days",
        verbose_name=_("calendar"),
    )
    date = models.DateField(verbose_name=_("date"))
    name = models.CharField(max_length=100, blank=True, verbose_name=_("name"))

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="unique_closed_day")
        ]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")

    def __str__(self):
        return f"{self.date} {self.name}".strip()


class Agreement(Tracked):
    """An SLA (with the customer), an OLA (with a team, while it holds the record) or an
    underpinning contract (with a supplier, while the record waits on it)."""

    class Kind(models.TextChoices):
        SLA = "sla", _("Service level agreement")
        OLA = "ola", _("Operational level agreement")
        UC = "uc", _("Underpinning contract")

    class OnPriorityChange(models.TextChoices):
        RETARGET = "retarget", _("Re-target, keeping the time elapsed")
        KEEP = "keep", _("Keep the current targets")

    name = models.CharField(max_length=150, verbose_name=_("name"))
    kind = models.CharField(
        max_length=3, choices=Kind.choices, default=Kind.SLA, verbose_name=_("kind")
    )
    record_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Which records."),
        verbose_name=_("record type"),
    )
    order = models.PositiveIntegerField(
        default=100,
        help_text=_("Evaluated in this order; the first that matches applies."),
        verbose_name=_("order"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    # Conditions (all that are set must match)
    priorities = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("Comma-separated priorities, e.g. 1,2; empty = any."),
        verbose_name=_("priorities"),
    )
    service = models.ForeignKey(
        "catalogue.Service",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("service"),
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organization"),
    )
    conditions = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Other fields of the record, e.g. {"category": [4, 5]}.'),
        verbose_name=_("conditions"),
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_(
            "OLA: the team whose targets these are (the clock runs while it holds the record)."
        ),
        verbose_name=_("team"),
    )
    supplier = models.CharField(
        max_length=150,
        blank=True,
        help_text=_("Underpinning contract: the supplier."),
        verbose_name=_("supplier"),
    )
    pause_when = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "Conditions that pause the clock; empty = the record type's default "
            "(incidents: on hold awaiting caller or supplier)."
        ),
        verbose_name=_("pause when"),
    )
    run_when = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "The clock runs only while one of these matches (underpinning contracts: "
            'e.g. [{"state": "on_hold", "on_hold_reason": "awaiting_supplier"}]).'
        ),
        verbose_name=_("run when"),
    )
    on_priority_change = models.CharField(
        max_length=10,
        choices=OnPriorityChange.choices,
        default=OnPriorityChange.RETARGET,
        verbose_name=_("on priority change"),
    )

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")

    def __str__(self):
        return self.name

    @property
    def priority_set(self) -> set[int]:
        parts = self.priorities.replace(" ", "").split(",")
        return {int(p) for p in parts if p.isascii() and p.isdigit() and len(p) < 6}

    def clean(self):
        errors = {}
        if self.priorities and not self.priority_set:
            errors["priorities"] = "Priorities as numbers separated by commas, e.g. 1,2."
        if self.kind == self.Kind.OLA and not self.team_id:
            errors["team"] = "An OLA is with a team."
        if self.kind == self.Kind.UC and not (self.supplier and self.run_when):
            errors["run_when"] = "An underpinning contract names its supplier and when it runs."
        # The conditions name attributes the record type's profile gives, with values they
        # can take (one check for the API and the admin's builder rows).
        for name, found in check_agreement(self).items():
            errors.setdefault(name, found)
        if errors:
            raise ValidationError(errors)


class Target(models.Model):
    class Metric(models.TextChoices):
        RESPONSE = "response", _("Response (until the first agent response)")
        RESOLUTION = "resolution", _("Resolution (until resolved)")

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="targets", verbose_name=_("agreement")
    )
    name = models.CharField(
        max_length=100,
        help_text=_('Shown on records, e.g. "Resolve in 8h".'),
        verbose_name=_("name"),
    )
    metric = models.CharField(max_length=12, choices=Metric.choices, verbose_name=_("metric"))
    duration = models.DurationField(
        help_text=_("Business time, e.g. 08:00:00 or 2 days, 0:00:00."), verbose_name=_("duration")
    )
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="+", verbose_name=_("calendar")
    )

    class Meta:
        ordering = ["agreement", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "metric"], name="one_target_per_metric")
        ]
        verbose_name = _("target")
        verbose_name_plural = _("targets")

    def __str__(self):
        return f"{self.agreement}: {self.name}"

    def clean(self):
        if self.duration is not None and self.duration <= timedelta(0):
            raise ValidationError({"duration": _("A target needs a positive duration.")})


class Threshold(models.Model):
    """What happens when a timer has used this share of its target (100 = breach)."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="thresholds", verbose_name=_("agreement")
    )
    percent = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Share of the target used, 1-100; 100 is the breach."),
        verbose_name=_("percent"),
    )
    notify_assignee = models.BooleanField(default=True, verbose_name=_("notify assignee"))
    notify_team_manager = models.BooleanField(default=False, verbose_name=_("notify team manager"))
    notify_addresses = models.TextField(
        blank=True,
        help_text=_("E-mail addresses, comma-separated."),
        verbose_name=_("notify addresses"),
    )
    raise_priority = models.BooleanField(default=False, verbose_name=_("raise priority"))
    reassign_to = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reassign to"),
    )

    class Meta:
        ordering = ["agreement", "percent"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "percent"], name="one_threshold_per_percent"
            )
        ]
        verbose_name = _("threshold")
        verbose_name_plural = _("thresholds")

    def __str__(self):
        return f"{self.agreement}: {self.percent}%"

    @property
    def addresses(self) -> list[str]:
        return [a.strip() for a in self.notify_addresses.replace(";", ",").split(",") if a.strip()]


class Timer(models.Model):
    """One target running on one record."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")
        CANCELLED = "cancelled", _("Cancelled")

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name=_("content type")
    )
    object_id = models.BigIntegerField(verbose_name=_("object id"))
    record = GenericForeignKey("content_type", "object_id")
    record_number = models.CharField(max_length=20, db_index=True, verbose_name=_("record number"))
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="timers", verbose_name=_("agreement")
    )
    target = models.ForeignKey(
        Target, on_delete=models.PROTECT, related_name="timers", verbose_name=_("target")
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    metric = models.CharField(
        max_length=12, choices=Target.Metric.choices, verbose_name=_("metric")
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.RUNNING, verbose_name=_("state")
    )
    breached = models.BooleanField(default=False, verbose_name=_("breached"))
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    due_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty while paused."), verbose_name=_("due at")
    )
    #: Business seconds elapsed up to ``checkpoint_at``; more accrue while running.
    business_elapsed = models.FloatField(default=0, verbose_name=_("business elapsed"))
    checkpoint_at = models.DateTimeField(default=timezone.now, verbose_name=_("checkpoint at"))
    paused_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paused at"))
    paused_seconds = models.FloatField(
        default=0, help_text=_("Wall-clock time spent paused."), verbose_name=_("paused seconds")
    )
    stopped_at = models.DateTimeField(null=True, blank=True, verbose_name=_("stopped at"))
    breached_at = models.DateTimeField(null=True, blank=True, verbose_name=_("breached at"))
    breach_reason = models.TextField(blank=True, verbose_name=_("breach reason"))
    # The record as it was at the last evaluation, for lists and reports.
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team"),
    )
    priority = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("priority"))
    service = models.ForeignKey(
        "catalogue.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("service"),
    )
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="sla_timer_record"),
            models.Index(
                fields=["due_at"],
                condition=models.Q(state="running"),
                name="sla_timer_running_due",
            ),
            models.Index(fields=["state", "due_at"], name="sla_timer_state_due"),
            models.Index(fields=["stopped_at"], name="sla_timer_stopped"),
        ]
        verbose_name = _("timer")
        verbose_name_plural = _("timers")

    def __str__(self):
        return f"{self.record_number} {self.name} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.stopped_at is not None or self.state == self.State.CANCELLED

    @property
    def target_seconds(self) -> float:
        return self.target.duration.total_seconds()


class Escalation(models.Model):
    """One threshold of one timer: pending until due, queued to a worker, done once."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        QUEUED = "queued", _("Queued")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    timer = models.ForeignKey(
        Timer, on_delete=models.CASCADE, related_name="escalations", verbose_name=_("timer")
    )
    threshold = models.ForeignKey(
        Threshold, on_delete=models.CASCADE, related_name="+", verbose_name=_("threshold")
    )
    due_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty while paused."), verbose_name=_("due at")
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    queued_at = models.DateTimeField(null=True, blank=True, verbose_name=_("queued at"))
    done_at = models.DateTimeField(null=True, blank=True, verbose_name=_("done at"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    outcome = models.TextField(blank=True, verbose_name=_("outcome"))

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["timer", "threshold"], name="one_escalation_per_threshold"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=models.Q(state="pending"), name="sla_esc_pending_due"
            ),
            models.Index(
                fields=["queued_at"], condition=models.Q(state="queued"), name="sla_esc_queued"
            ),
        ]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self):
        return f"{self.timer} at {self.threshold.percent}%"
