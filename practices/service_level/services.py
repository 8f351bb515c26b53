"""Service level timers: which agreements apply to a record, and the life of each timer
(start, pause, resume, stop, re-target, breach) and of its escalations.

``evaluate`` runs inside the transaction of every change to a record (through the kernel's
``record_changed`` signal), so a record and its timers never disagree. ``sweep`` runs on
Celery beat and works set-based: one UPDATE records every breach that fell due, one UPDATE
queues every escalation that fell due (or whose task got lost); ``escalate`` acts on one
escalation, exactly once, in one transaction."""

import logging
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, gettext_noop

from itsm.core import services as core
from itsm.core.i18n import Said, said
from itsm.core.models import JournalEntry, local_moment

from . import calendars, registry
from .models import Agreement, BusinessCalendar, Escalation, Target, Threshold, Timer

logger = logging.getLogger(__name__)
State = Timer.State

# Calendars ---------------------------------------------------------------------------------

_engines: dict[tuple[int, int], calendars.CalendarEngine] = {}


def spec_of(calendar: BusinessCalendar) -> calendars.CalendarSpec:
    hours: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for period in calendar.working_periods.all():
        hours[period.weekday].append(period.minutes)
    return calendars.CalendarSpec(
        time_zone=calendar.time_zone,
        always_open=calendar.always_open,
        hours={day: tuple(sorted(periods)) for day, periods in hours.items()},
        holiday_country=calendar.holiday_country.upper(),
        holiday_subdivision=calendar.holiday_subdivision.upper(),
        closed_dates=frozenset(day.date for day in calendar.closed_days.all()),
    )


def engine(calendar: BusinessCalendar) -> calendars.CalendarEngine:
    """The arithmetic of a calendar, cached per process until the calendar changes."""
    key = (calendar.pk, calendar.version)
    found = _engines.get(key)
    if found is None:
        found = _engines[key] = calendars.get_calendar(spec_of(calendar))
    return found


# Matching ------------------------------------------------------------------------------------


def matches(condition: dict, attributes: dict) -> bool:
    """True when every field of the condition has one of the given values."""
    for name, expected in condition.items():
        values = expected if isinstance(expected, list) else [expected]
        if attributes.get(name) not in values:
            return False
    return True


def applies(agreement: Agreement, attributes: dict) -> bool:
    if agreement.priority_set and attributes.get("priority") not in agreement.priority_set:
        return False
    if agreement.service_id and attributes.get("service") != agreement.service_id:
        return False
    if agreement.organization_id and attributes.get("organization") != agreement.organization_id:
        return False
    if (
        agreement.kind == Agreement.Kind.OLA
        and attributes.get("assignment_group") != agreement.team_id
    ):
        return False
    if agreement.kind == Agreement.Kind.UC and not any(
        matches(c, attributes) for c in agreement.run_when
    ):
        return False
    return matches(agreement.conditions or {}, attributes)


def runs(agreement: Agreement, attributes: dict, profile: registry.Profile) -> bool:
    """Whether the clock of this agreement runs for a record in this condition."""
    default = [] if agreement.kind == Agreement.Kind.UC else profile.default_pause_when
    pause_when = agreement.pause_when or default
    if any(matches(c, attributes) for c in pause_when):
        return False
    if agreement.run_when and not any(matches(c, attributes) for c in agreement.run_when):
        return False
    return not (
        agreement.kind == Agreement.Kind.OLA
        and attributes.get("assignment_group") != agreement.team_id
    )


def choose(agreements: list[Agreement], attributes: dict) -> list[Agreement]:
    """First matching SLA; first matching OLA for the team holding the record; first
    matching underpinning contract."""
    chosen = []
    for kind in (Agreement.Kind.SLA, Agreement.Kind.OLA, Agreement.Kind.UC):
        for agreement in agreements:
            if agreement.kind == kind and applies(agreement, attributes):
                chosen.append(agreement)
                break
    return chosen


# Timer arithmetic ----------------------------------------------------------------------------


def elapsed(timer: Timer, now: datetime) -> float:
    """Business seconds used so far."""
    if timer.paused_at is not None or timer.stopped_at is not None:
        return timer.business_elapsed
    return timer.business_elapsed + engine(timer.target.calendar).seconds_between(
        timer.checkpoint_at, now
    )


def seconds_left(timer: Timer, now: datetime) -> float:
    return timer.target_seconds - elapsed(timer, now)


def _journal(record, timer: Timer, text: Said, actor=None, at: datetime | None = None) -> None:
    """A line on the record's timeline, in each reader's language (``text``: a ``said``);
    a moment it names is written ``{at}`` in the sentence and shown to each reader in their
    own time zone (``JournalEntry.text``)."""
    core.write_journal(
        record, JournalEntry.Kind.SLA, actor, internal=True, **_entry(timer, text, at)
    )


def _entry(timer: Timer | None, text: Said, at, name: str = "", timer_id=None, state=None) -> dict:
    worded = said(gettext_noop("%(timer)s: %(what)s"), timer=name or timer.name, what=text)
    data = {"timer": timer_id or timer.pk, "state": state or timer.state, "said": worded.as_data()}
    if at is not None:
        at = parse_datetime(at) if isinstance(at, str) else at
        if timezone.is_naive(at):
            at = timezone.make_aware(at, UTC)
        data["at"] = at.isoformat()
    return {"body": worded.in_english().replace("{at}", _local(at)), "data": data}


def _local(moment: datetime | str | None) -> str:
    if not moment:
        return "—"
    if isinstance(moment, str):  # raw SQL on SQLite
        moment = parse_datetime(moment)
    return local_moment(moment)


def _schedule_escalations(timer: Timer, thresholds, now: datetime) -> None:
    """(Re)compute when each pending escalation of a running timer falls due."""
    existing = {e.threshold_id: e for e in timer.escalations.all()}
    cal = engine(timer.target.calendar)
    total = timer.target_seconds
    used = elapsed(timer, now)
    for threshold in thresholds:
        escalation = existing.get(threshold.pk)
        if escalation is None:
            escalation = Escalation(timer=timer, threshold=threshold)
        elif escalation.state in (Escalation.State.DONE, Escalation.State.QUEUED):
            continue
        share = total * threshold.percent / 100
        if timer.paused_at is not None or timer.stopped_at is not None:
            due = None
        elif threshold.percent >= 100:
            due = timer.due_at
        elif used >= share:
            due = now
        else:
            due = cal.add(timer.checkpoint_at, share - timer.business_elapsed)
        escalation.due_at = due
        if escalation.state == Escalation.State.SKIPPED and due is not None:
            escalation.state = Escalation.State.PENDING
        escalation.save()


def _skip_escalations(timer: Timer) -> None:
    timer.escalations.filter(state=Escalation.State.PENDING).update(
        state=Escalation.State.SKIPPED, due_at=None
    )


def _start(record, agreement, target, attributes, started_at, used, now, actor) -> Timer:
    timer = Timer(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        record_number=record.number,
        agreement=agreement,
        target=target,
        name=target.name,
        metric=target.metric,
        state=State.RUNNING,
        started_at=started_at,
        checkpoint_at=now if used else started_at,
        business_elapsed=used,
    )
    _denormalize(timer, attributes)
    remaining = max(0.0, target.duration.total_seconds() - used)
    timer.due_at = engine(target.calendar).add(timer.checkpoint_at, remaining)
    timer.save()
    _schedule_escalations(timer, agreement.thresholds.all(), now)
    _journal(
        record,
        timer,
        said(gettext_noop("started (%(agreement)s), due {at}"), agreement=str(agreement)),
        actor,
        at=timer.due_at,
    )
    return timer


def _denormalize(timer: Timer, attributes: dict) -> None:
    timer.team_id = attributes.get("assignment_group")
    timer.priority = attributes.get("priority")
    timer.service_id = attributes.get("service")


def _pause(record, timer: Timer, now: datetime, actor) -> None:
    timer.business_elapsed = elapsed(timer, now)
    timer.checkpoint_at = now
    timer.paused_at = now
    timer.due_at = None if timer.state == State.RUNNING else timer.due_at
    if timer.state == State.RUNNING:
        timer.state = State.PAUSED
    timer.save()
    timer.escalations.filter(state=Escalation.State.PENDING).update(due_at=None)
    _journal(record, timer, said(gettext_noop("paused")), actor)


def _resume(record, timer: Timer, now: datetime, actor) -> None:
    timer.paused_seconds += (now - timer.paused_at).total_seconds()
    timer.paused_at = None
    timer.checkpoint_at = now
    if timer.state == State.PAUSED:
        timer.state = State.RUNNING
        left = max(0.0, timer.target_seconds - timer.business_elapsed)
        timer.due_at = engine(timer.target.calendar).add(now, left)
    timer.save()
    _schedule_escalations(timer, timer.agreement.thresholds.all(), now)
    _journal(record, timer, said(gettext_noop("resumed, due {at}")), actor, at=timer.due_at)


def _stop(record, timer: Timer, at: datetime, now: datetime, actor) -> None:
    at = max(min(at, now), timer.checkpoint_at) if timer.paused_at is None else at
    timer.business_elapsed = elapsed(timer, at)
    if timer.paused_at is not None:
        timer.paused_seconds += max(0.0, (at - timer.paused_at).total_seconds())
        timer.paused_at = None
    timer.checkpoint_at = at
    timer.stopped_at = at
    if timer.business_elapsed > timer.target_seconds and not timer.breached:
        timer.breached = True
        timer.breached_at = timer.due_at or at
    timer.state = State.BREACHED if timer.breached else State.MET
    timer.save()
    _skip_escalations(timer)
    if timer.state == State.MET:
        _journal(record, timer, said(gettext_noop("met")), actor)
    else:
        _journal(record, timer, said(gettext_noop("breached (stopped)")), actor)


def _reopen(record, timer: Timer, now: datetime, actor) -> None:
    timer.stopped_at = None
    timer.checkpoint_at = now
    timer.state = State.BREACHED if timer.breached else State.RUNNING
    if not timer.breached:
        left = max(0.0, timer.target_seconds - timer.business_elapsed)
        timer.due_at = engine(timer.target.calendar).add(now, left)
    timer.save()
    _schedule_escalations(timer, timer.agreement.thresholds.all(), now)
    _journal(
        record,
        timer,
        said(gettext_noop("running again (reopened), due {at}")),
        actor,
        at=timer.due_at,
    )


def _cancel(record, timer: Timer, now: datetime, reason: Said, actor) -> None:
    timer.business_elapsed = elapsed(timer, now)
    timer.checkpoint_at = now
    timer.paused_at = None
    timer.state = State.CANCELLED
    timer.stopped_at = timer.stopped_at or now
    timer.save()
    # Only the pending ones: a queued one may be locked by its worker right now (waiting for
    # this record), and it sees the cancelled timer itself when it runs.
    _skip_escalations(timer)
    _journal(record, timer, said(gettext_noop("cancelled (%(reason)s)"), reason=reason), actor)


# Evaluation ----------------------------------------------------------------------------------


def agreements_for(content_type: ContentType) -> list[Agreement]:
    return list(
        Agreement.objects.filter(record_type=content_type, active=True)
        .select_related("record_type")
        .prefetch_related("targets__calendar", "thresholds")
    )


def evaluate(record, actor=None, now: datetime | None = None, created: bool = False) -> list[Timer]:
    """Bring the record's timers in line with the record. Returns its live timers."""
    profile = registry.profile_for(type(record))
    if profile is None:
        return []
    now = now or timezone.now()
    content_type = ContentType.objects.get_for_model(record)
    attributes = profile.attributes(record)
    timers = list(
        Timer.objects.select_for_update()
        .filter(content_type=content_type, object_id=record.pk)
        .select_related("agreement", "target__calendar")
        .order_by("pk")
    )
    live = [t for t in timers if t.state != State.CANCELLED]
    for agreement in choose(agreements_for(content_type), attributes):
        for target in agreement.targets.all():
            if any(t.agreement_id == agreement.pk and t.metric == target.metric for t in live):
                continue
            previous = next(
                (
                    t
                    for t in live
                    if t.agreement.kind == agreement.kind
                    and t.metric == target.metric
                    and (
                        agreement.kind != Agreement.Kind.OLA
                        or t.agreement.team_id == agreement.team_id
                    )
                ),
                None,
            )
            if previous is not None:
                if previous.stopped_at is not None:
                    continue  # that target is behind us; its outcome stands
                if previous.agreement.on_priority_change == Agreement.OnPriorityChange.KEEP:
                    continue
                used = elapsed(previous, now)
                reason = said(
                    gettext_noop("re-targeted to %(agreement)s"), agreement=str(agreement)
                )
                _cancel(record, previous, now, reason, actor)
                live.remove(previous)
                live.append(
                    _start(
                        record, agreement, target, attributes, previous.started_at, used, now, actor
                    )
                )
            else:
                start = (
                    record.created_at if created and agreement.kind == Agreement.Kind.SLA else now
                )
                live.append(_start(record, agreement, target, attributes, start, 0.0, now, actor))
    for timer in live:
        _follow(record, timer, profile, attributes, now, actor)
    return live


def _follow(record, timer: Timer, profile: registry.Profile, attributes: dict, now, actor) -> None:
    """Move one timer to the state the record calls for."""
    if profile.cancelled(record):
        if timer.state != State.CANCELLED and timer.stopped_at is None:
            _cancel(record, timer, now, said(gettext_noop("the record was cancelled")), actor)
        return
    done_at = (
        profile.responded_at(record)
        if timer.metric == Target.Metric.RESPONSE
        else profile.resolved_at(record)
    )
    if done_at is not None:
        if timer.stopped_at is None:
            _stop(record, timer, done_at, now, actor)
        return
    if timer.stopped_at is not None:
        _reopen(record, timer, now, actor)
    running = runs(timer.agreement, attributes, profile)
    if running and timer.paused_at is not None:
        _resume(record, timer, now, actor)
    elif not running and timer.paused_at is None:
        _pause(record, timer, now, actor)
    if (timer.team_id, timer.priority, timer.service_id) != (
        attributes.get("assignment_group"),
        attributes.get("priority"),
        attributes.get("service"),
    ):
        _denormalize(timer, attributes)
        timer.save(update_fields=["team", "priority", "service"])


# Sweep and escalations -----------------------------------------------------------------------

SWEEP_BATCH = 5000
#: A sweep that finds a full batch goes on with the next one until this many seconds have
#: passed, so a backlog after downtime is caught up within a sweep or two.
SWEEP_BUDGET_SECONDS = 20.0


def _claim(cursor, table: str, assignments: str, condition: str, order: str, params: list):
    """UPDATE one batch of rows that match ``condition`` and return their ids.

    The condition is tested again on the locked row (two sweeps never take the same row),
    and on PostgreSQL rows locked elsewhere (an escalation a worker is doing) are skipped
    rather than waited for."""
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    cursor.execute(
        f"UPDATE {table} SET {assignments} WHERE id IN (SELECT id FROM {table} "  # noqa: S608
        f"WHERE {condition} ORDER BY {order} LIMIT {SWEEP_BATCH}{lock}) AND {condition} "
        f"RETURNING id",
        params,
    )
    return [row[0] for row in cursor.fetchall()]


def sweep(now: datetime | None = None) -> dict:
    """Record every breach that fell due and queue every escalation that fell due, with
    set-based UPDATEs in batches (one transaction each). Escalations whose task never
    finished (broker or worker down) are queued again after ``SLA_REQUEUE_AFTER`` seconds;
    ``escalate`` makes that safe."""
    now = now or timezone.now()
    started = time.monotonic()
    totals = {"breached": 0, "queued": 0}
    while True:
        batch = _sweep_batch(now)
        totals["breached"] += batch["breached"]
        totals["queued"] += batch["queued"]
        full = max(batch["breached"], batch["queued"], batch["requeued"]) >= SWEEP_BATCH
        if not full or time.monotonic() - started > SWEEP_BUDGET_SECONDS:
            return totals


def _sweep_batch(now: datetime) -> dict:
    stale = now - timedelta(seconds=settings.SLA_REQUEUE_AFTER)
    timers = Timer._meta.db_table
    escalations = Escalation._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        breached_ids = _claim(
            cursor,
            timers,
            "state = %s, breached = %s, breached_at = due_at, updated_at = %s",
            "state = %s AND due_at <= %s",
            "due_at",
            [State.BREACHED, True, now, State.RUNNING, now, State.RUNNING, now],
        )
        breaches = list(
            Timer.objects.filter(pk__in=breached_ids).values_list(
                "pk", "content_type_id", "object_id", "name", "due_at"
            )
        )
        JournalEntry.objects.bulk_create(
            [
                JournalEntry(
                    content_type_id=content_type_id,
                    object_id=object_id,
                    kind=JournalEntry.Kind.SLA,
                    internal=True,
                    created_at=now,
                    **_entry(
                        None,
                        said(gettext_noop("breached (due {at})")),
                        due_at,
                        name=name,
                        timer_id=timer_id,
                        state=State.BREACHED,
                    ),
                )
                for timer_id, content_type_id, object_id, name, due_at in breaches
            ]
        )
        queue = "state = %s, queued_at = %s, attempts = attempts + 1"
        queued = _claim(
            cursor,
            escalations,
            queue,
            "state = %s AND due_at <= %s",
            "due_at",
            [
                Escalation.State.QUEUED,
                now,
                Escalation.State.PENDING,
                now,
                Escalation.State.PENDING,
                now,
            ],
        )
        requeued = _claim(
            cursor,
            escalations,
            queue,
            "state = %s AND queued_at < %s",
            "queued_at",
            [
                Escalation.State.QUEUED,
                now,
                Escalation.State.QUEUED,
                stale,
                Escalation.State.QUEUED,
                stale,
            ],
        )
        ids = queued + requeued
        if ids:
            transaction.on_commit(lambda: _enqueue(ids))
    return {"breached": len(breached_ids), "queued": len(ids), "requeued": len(requeued)}


def _enqueue(ids: list[int]) -> None:
    from .tasks import run_escalation

    for escalation_id in ids:
        try:
            run_escalation.delay(escalation_id)
        except Exception:  # the broker is down: the sweep queues it again later
            logger.warning("Could not queue escalation %s; a later sweep will", escalation_id)
            return


def escalate(escalation_id: int, now: datetime | None = None) -> bool:
    """Carry out one escalation. The row lock and its state make this happen at most once,
    and the actions (outbox rows, record changes) commit together with ``done``: a worker
    that dies half-way leaves it queued, and it is done again in full, once."""
    now = now or timezone.now()
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update(of=("self",))
            .select_related("timer__target", "timer__agreement", "threshold__reassign_to")
            .filter(pk=escalation_id)
            .first()
        )
        if escalation is None or escalation.state != Escalation.State.QUEUED:
            return False
        timer = escalation.timer
        late = timer.stopped_at is not None and (
            escalation.due_at is None or escalation.due_at > timer.stopped_at
        )
        if timer.state == State.CANCELLED or late:
            escalation.state = Escalation.State.SKIPPED
            escalation.save(update_fields=["state"])
            return False
        record = timer.record
        threshold = escalation.threshold
        outcome = _act(record, timer, threshold, now)
        if settings.SLA_ESCALATION_DELAY:
            time.sleep(settings.SLA_ESCALATION_DELAY)  # fault injection (tests only)
        escalation.state = Escalation.State.DONE
        escalation.done_at = now
        escalation.outcome = outcome
        escalation.save(update_fields=["state", "done_at", "outcome"])
    return True


def _act(record, timer: Timer, threshold: Threshold, now: datetime) -> str:
    profile = registry.profile_for(type(record))
    if threshold.percent >= 100:
        what = said(gettext_noop("breached"))
    else:
        what = said(gettext_noop("%(percent)s%% used"), percent=threshold.percent)
    left = seconds_left(timer, now)
    values = {
        "number": record.number,
        "title": record.title,
        "timer": timer.name,
        "agreement": str(timer.agreement),
        "due": _local(timer.due_at),
        "duration": _duration(abs(left)),
    }

    def subject():
        return gettext("SLA %(what)s: %(number)s %(timer)s") % {**values, "what": what}

    def body():
        if left > 0:
            rest = gettext("%(duration)s of business time left.") % values
        else:
            rest = gettext("%(duration)s over target.") % values
        return (
            f"{values['number']} {values['title']}\n"
            + gettext("%(timer)s (%(agreement)s): %(what)s. Due %(due)s;")
            % {**values, "what": what}
            + f" {rest}"
        )

    recipients = []
    if threshold.notify_assignee and getattr(record, "assigned_to", None):
        recipients.append(record.assigned_to)
    group = getattr(record, "assignment_group", None)
    if threshold.notify_team_manager and group is not None and group.manager_id:
        recipients.append(group.manager)
    done = []
    sent = core.notify(recipients, subject, body, record, addresses=threshold.addresses)
    if sent:
        people = ", ".join(sorted(str(n.recipient or n.address) for n in sent))
        done.append(said(gettext_noop("notified %(people)s"), people=people))
    if threshold.raise_priority and profile and profile.raise_priority:
        before = getattr(record, "priority", None)
        profile.raise_priority(record, None)
        after = getattr(record, "priority", before)
        done.append(
            said(gettext_noop("priority %(before)s → %(after)s"), before=before, after=after)
        )
    if threshold.reassign_to_id and profile and profile.reassign:
        profile.reassign(record, threshold.reassign_to, None)
        done.append(said(gettext_noop("reassigned to %(team)s"), team=str(threshold.reassign_to)))
    outcome = done[0] if done else said(gettext_noop("nothing to do"))
    for step in done[1:]:
        outcome = said(gettext_noop("%(done)s; %(next)s"), done=outcome, next=step)
    _journal(record, timer, said(gettext_noop("%(what)s: %(outcome)s"), what=what, outcome=outcome))
    return outcome.in_english()


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
