"""Conflicts and the schedule: conflict detection, the implementation check, freezes
(change lockdowns), the scheduling assistant, schedule windows' writes, and what the
kernel's schedule registry publishes to other practices.

**Conflicts.** ``detect(change)`` looks, for the change's planned window, for:

* another in-flight change overlapping in time on the same CI (``same_ci``) or on a CI one
  relationship away, parent or child, in either direction (``related_ci``; two hops is
  not a conflict);
* a CI (or a service) that has maintenance windows while the planned window is inside
  none of their occurrences (``outside_maintenance``);
* a blackout occurrence overlapping the planned window (``blackout``);
* the assignee already booked on another overlapping in-flight change, or on an open
  change task of another change (``assignee_booked``).

Windows are adjacent, not overlapping, when one ends as the other starts. Detection is
set-based: a fixed number of queries whatever the number of CIs (the CIs, their
relationships one hop away, the changes on those CIs in the window through the M2M
table and the ``chg_window`` index, the windows in scope), then one delete and one insert.

**Both sides see a conflict between two changes.** Detection stores the rows of the
change *and* their mirror on the other change (``same_ci``, ``related_ci`` and an
assignee booked on another change): re-detecting a change first removes its rows and the
rows other changes hold about it, then writes both sides again. A row about a change that
has since left the schedule (cancelled, closed) is not shown (``current``). An assignee
booked on another change's *task* is the change's own row only (it names the task).

**Implementation.** ``implementation_refusal(change, at)``: a change on hold (a freeze)
is refused naming the freeze; inside a blackout occurrence at ``at`` it is refused naming
the window, except an emergency change, which goes ahead and whose detection on entering
implementation journals the warning.

**Freezes.** ``freeze`` enters a change lockdown (a blackout window, usually naming the
major incident): matching changes not yet implementing are put on hold in bulk,
journalled; ``lift`` ends it and releases exactly the changes it held.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from cmdb.models import CIClass, ConfigurationItem, Relationship
from itsm.core.i18n import Said, said
from itsm.core.models import JournalEntry

from . import windows as windows_module
from .models import Change, ChangeTask, Conflict, ScheduleWindow
from .templates import is_change_manager
from .workflows import BEFORE_IMPLEMENTATION, IN_FLIGHT, ChangeState

Kind = Conflict.Kind
WindowKind = ScheduleWindow.Kind
#: Conflicts between two changes, stored on both.
MIRRORED = (Kind.SAME_CI, Kind.RELATED_CI, Kind.ASSIGNEE_BOOKED)


# Describing moments --------------------------------------------------------------------


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment, timezone.get_default_timezone())


#: The en dash between the ends of a period.
DASH = "\u2013"


def moment_text(moment: datetime) -> str:
    """``Tue 8 Dec 02:00 UTC``."""
    a = _local(moment)
    return f"{a:%a} {a.day} {a:%b} {a:%H:%M} {a:%Z}"


def span(start: datetime, end: datetime) -> str:
    """``Tue 8 Dec 02:00-04:00 UTC`` with an en dash (the platform's zone: stored text
    reads the same for everyone)."""
    a, b = _local(start), _local(end)
    head = f"{a:%a} {a.day} {a:%b} {a:%H:%M}"
    if a.date() == b.date():
        return f"{head}{DASH}{b:%H:%M} {a:%Z}"
    return f"{head} {DASH} {b:%a} {b.day} {b:%b} {b:%H:%M} {b:%Z}"


# The change's scope: CIs, classes, services, windows ------------------------------------


@dataclass
class Scope:
    """What a change touches and the windows that apply to it."""

    ci_names: dict = field(default_factory=dict)  # ci id -> name
    ci_classes: dict = field(default_factory=dict)  # ci id -> {class id and its ancestors}
    services: set = field(default_factory=set)
    #: window -> the change's CI ids it covers (by CI or class)
    window_cis: dict = field(default_factory=dict)
    #: window -> whether it covers the change as a whole (unscoped, or one of its services)
    window_whole: dict = field(default_factory=dict)
    windows: list = field(default_factory=list)

    def of_kind(self, kind: str) -> list[ScheduleWindow]:
        return [w for w in self.windows if w.kind == kind]

    def ci_windows(self, ci_id: int, kind: str) -> list[ScheduleWindow]:
        return [
            w
            for w in self.of_kind(kind)
            if ci_id in self.window_cis.get(w.pk, ()) or self._unscoped(w)
        ]

    def _unscoped(self, window) -> bool:
        return window.pk in self.window_whole and window.unscoped

    def first_ci(self, window) -> int | None:
        cis = self.window_cis.get(window.pk)
        return min(cis, key=lambda pk: self.ci_names[pk]) if cis else None


def _class_lineage(class_ids: set[int]) -> dict[int, set[int]]:
    """class id -> it and its ancestors (the class table is small: one query)."""
    if not class_ids:
        return {}
    parents = dict(CIClass.objects.values_list("pk", "parent_id"))
    lineage = {}
    for class_id in class_ids:
        seen, current = set(), class_id
        while current is not None and current not in seen:
            seen.add(current)
            current = parents.get(current)
        lineage[class_id] = seen
    return lineage


def _windows_for(
    ci_ids: set[int], class_ids: set[int], service_ids: set[int], kinds=None
) -> tuple[list, dict, dict]:
    """The active, unlifted windows that apply to these CIs, classes or services, or to
    everything; with the CIs each covers by CI and the classes and services it names."""
    through_ci = ScheduleWindow.configuration_items.through
    through_class = ScheduleWindow.ci_classes.through
    through_service = ScheduleWindow.services.through
    by_ci = list(
        through_ci.objects.filter(configurationitem_id__in=ci_ids).values_list(
            "schedulewindow_id", "configurationitem_id"
        )
        if ci_ids
        else []
    )
    by_class = list(
        through_class.objects.filter(ciclass_id__in=class_ids).values_list(
            "schedulewindow_id", "ciclass_id"
        )
        if class_ids
        else []
    )
    by_service = list(
        through_service.objects.filter(service_id__in=service_ids).values_list(
            "schedulewindow_id", "service_id"
        )
        if service_ids
        else []
    )
    named = {w for w, _ in by_ci} | {w for w, _ in by_class} | {w for w, _ in by_service}
    unscoped = (
        ~Exists(through_ci.objects.filter(schedulewindow_id=OuterRef("pk")))
        & ~Exists(through_class.objects.filter(schedulewindow_id=OuterRef("pk")))
        & ~Exists(through_service.objects.filter(schedulewindow_id=OuterRef("pk")))
    )
    windows = ScheduleWindow.objects.filter(active=True, lifted_at__isnull=True).annotate(
        unscoped=unscoped
    )
    if kinds:
        windows = windows.filter(kind__in=kinds)
    windows = list(windows.filter(Q(pk__in=named) | Q(unscoped=True)).order_by("starts_at", "pk"))
    classes_of: dict[int, set] = {}
    for window_id, class_id in by_class:
        classes_of.setdefault(window_id, set()).add(class_id)
    services_of: dict[int, set] = {}
    for window_id, service_id in by_service:
        services_of.setdefault(window_id, set()).add(service_id)
    cis_of: dict[int, set] = {}
    for window_id, ci_id in by_ci:
        cis_of.setdefault(window_id, set()).add(ci_id)
    return windows, cis_of, {"classes": classes_of, "services": services_of}


def scope_of(change: Change, kinds=None) -> Scope:
    """The change's CIs (with their classes' lineage), services and the windows in scope."""
    scope = Scope()
    if change.pk is None:
        return scope
    rows = list(change.configuration_items.values_list("pk", "name", "ci_class_id"))
    scope.ci_names = {pk: name for pk, name, _ in rows}
    lineage = _class_lineage({class_id for _, _, class_id in rows})
    scope.ci_classes = {pk: lineage.get(class_id, {class_id}) for pk, _, class_id in rows}
    scope.services = set(
        Change.services.through.objects.filter(change_id=change.pk).values_list(
            "service_id", flat=True
        )
    )
    all_classes = set().union(*scope.ci_classes.values()) if scope.ci_classes else set()
    windows, cis_of, named = _windows_for(set(scope.ci_names), all_classes, scope.services, kinds)
    scope.windows = windows
    for window in windows:
        covered = set(cis_of.get(window.pk, ()))
        classes = named["classes"].get(window.pk, set())
        if classes:
            covered |= {pk for pk, lineage in scope.ci_classes.items() if lineage & classes}
        scope.window_cis[window.pk] = covered
        if window.unscoped or named["services"].get(window.pk):
            scope.window_whole[window.pk] = True
    return scope


def _related(ci_ids: set[int]) -> dict[int, set[int]]:
    """CI id one relationship away (either direction) -> the change's CIs it touches."""
    if not ci_ids:
        return {}
    related: dict[int, set[int]] = {}
    pairs = Relationship.objects.filter(Q(source_id__in=ci_ids) | Q(target_id__in=ci_ids))
    for source, target in pairs.values_list("source_id", "target_id"):
        if source in ci_ids:
            related.setdefault(target, set()).add(source)
        if target in ci_ids:
            related.setdefault(source, set()).add(target)
    return related


def _overlapping_changes(change: Change, ci_ids, start, end):
    """(change id, number, start, end, ci id, ci name) of other in-flight changes touching
    these CIs and overlapping [start, end)."""
    through = Change.configuration_items.through
    return list(
        through.objects.filter(
            configurationitem_id__in=ci_ids,
            change__state__in=IN_FLIGHT,
            change__planned_start__lt=end,
            change__planned_end__gt=start,
        )
        .exclude(change_id=change.pk)
        .values_list(
            "change_id",
            "change__number",
            "change__planned_start",
            "change__planned_end",
            "configurationitem_id",
            "configurationitem__name",
        )
    )


# Detection ----------------------------------------------------------------------------


def _scheduled(change: Change) -> bool:
    return bool(
        change.pk
        and change.state in IN_FLIGHT
        and change.planned_start
        and change.planned_end
        and change.planned_end > change.planned_start
    )


def find(change: Change, scope: Scope | None = None) -> list[Conflict]:
    """The change's conflicts as of now, unsaved: its own rows and their mirrors (rows of
    other changes, about this one)."""
    if not _scheduled(change):
        return []
    start, end = change.planned_start, change.planned_end
    scope = scope or scope_of(change)
    now = timezone.now()
    found: list[Conflict] = []

    def add(**values):
        found.append(Conflict(detected_at=now, **values))

    # Other changes on the same CIs, or one relationship away.
    mine = set(scope.ci_names)
    related = _related(mine)
    touched = mine | set(related)
    seen = set()

    def both(kind, other_id, ci_id, detail, other_ci_id, other_detail):
        """A conflict between this change and another, held by each of them."""
        if (kind, other_id, ci_id) in seen:
            return
        seen.add((kind, other_id, ci_id))
        add(
            change=change,
            kind=kind,
            other_change_id=other_id,
            configuration_item_id=ci_id,
            detail=detail,
        )
        add(
            change_id=other_id,
            kind=kind,
            other_change_id=change.pk,
            configuration_item_id=other_ci_id,
            detail=other_detail,
        )

    if touched:
        mine_when = span(start, end)
        for other_id, number, o_start, o_end, ci_id, ci_name in _overlapping_changes(
            change, touched, start, end
        ):
            when = span(o_start, o_end)
            if ci_id in mine:
                both(
                    Kind.SAME_CI,
                    other_id,
                    ci_id,
                    f"{number} also changes {ci_name} ({when})",
                    ci_id,
                    f"{change.number} also changes {ci_name} ({mine_when})",
                )
                continue
            for my_ci in sorted(related.get(ci_id, ())):
                my_name = scope.ci_names[my_ci]
                both(
                    Kind.RELATED_CI,
                    other_id,
                    my_ci,
                    f"{number} changes {ci_name}, related to {my_name} ({when})",
                    ci_id,
                    f"{change.number} changes {my_name}, related to {ci_name} ({mine_when})",
                )

    # Maintenance windows: each CI that has some must be changed inside one.
    maintenance = scope.of_kind(WindowKind.MAINTENANCE)
    if maintenance:
        subjects = [
            (ci_id, scope.ci_names[ci_id], scope.ci_windows(ci_id, WindowKind.MAINTENANCE))
            for ci_id in sorted(scope.ci_names, key=scope.ci_names.get)
        ]
        whole = [w for w in maintenance if scope.window_whole.get(w.pk) and not w.unscoped]
        if whole:
            subjects.append((None, "its services", whole))
        if not scope.ci_names and not whole:
            subjects.append((None, "the change", [w for w in maintenance if w.unscoped]))
        for ci_id, name, windows in subjects:
            if windows and windows_module.covering(windows, start, end) is None:
                names = ", ".join(w.name for w in windows[:3])
                add(
                    change=change,
                    kind=Kind.OUTSIDE_MAINTENANCE,
                    window=windows[0],
                    configuration_item_id=ci_id,
                    detail=f"{span(start, end)} is outside the maintenance windows of "
                    f"{name} ({names})",
                )

    # Blackouts overlapping the planned window.
    for window in scope.of_kind(WindowKind.BLACKOUT):
        occurrence = windows_module.overlapping([window], start, end)
        if occurrence is None:
            continue
        ci_id = scope.first_ci(window)
        what = f" for {scope.ci_names[ci_id]}" if ci_id else ""
        add(
            change=change,
            kind=Kind.BLACKOUT,
            window=window,
            configuration_item_id=ci_id,
            detail=f"Inside blackout {window.name}{what} ({_occurrence_text(occurrence)})",
        )

    # The assignee booked elsewhere.
    if change.assigned_to_id:
        who = change.assigned_to.get_full_name() or change.assigned_to.username
        others = Change.objects.filter(
            assigned_to_id=change.assigned_to_id,
            state__in=IN_FLIGHT,
            planned_start__lt=end,
            planned_end__gt=start,
        ).exclude(pk=change.pk)
        for other_id, number, o_start, o_end in others.values_list(
            "pk", "number", "planned_start", "planned_end"
        ):
            add(
                change=change,
                kind=Kind.ASSIGNEE_BOOKED,
                other_change_id=other_id,
                detail=f"{who} is booked on {number} ({span(o_start, o_end)})",
            )
            add(
                change_id=other_id,
                kind=Kind.ASSIGNEE_BOOKED,
                other_change_id=change.pk,
                detail=f"{who} is booked on {change.number} ({span(start, end)})",
            )
        tasks = ChangeTask.objects.filter(
            assigned_to_id=change.assigned_to_id,
            state__in=ChangeTask.OPEN_STATES,
            planned_start__lt=end,
            planned_end__gt=start,
            change__state__in=IN_FLIGHT,
        ).exclude(change_id=change.pk)
        for number, change_number, t_start, t_end in tasks.values_list(
            "number", "change__number", "planned_start", "planned_end"
        ):
            add(
                change=change,
                kind=Kind.ASSIGNEE_BOOKED,
                detail=f"{who} is booked on {number} of {change_number} ({span(t_start, t_end)})",
            )
    return found


def _occurrence_text(occurrence) -> str:
    if occurrence.end - occurrence.start >= windows_module.OPEN_ENDED - timedelta(days=1):
        return f"from {moment_text(occurrence.start)}, until lifted"
    return span(occurrence.start, occurrence.end)


def _occurrence_said(occurrence) -> Said | str:
    """``_occurrence_text`` read in the reader's language."""
    if occurrence.end - occurrence.start >= windows_module.OPEN_ENDED - timedelta(days=1):
        return said(
            gettext_noop("from %(start)s, until lifted"), start=moment_text(occurrence.start)
        )
    return span(occurrence.start, occurrence.end)


@transaction.atomic
def detect(change: Change) -> list[Conflict]:
    """Recompute and store the change's conflicts (and their mirrors on the other
    changes); returns the change's own. An emergency change implementing inside a
    blackout has the warning journalled (once per blackout)."""
    scope = (
        scope_of(change) if _scheduled(change) or change.state == ChangeState.IMPLEMENT else None
    )
    found = find(change, scope) if scope is not None else []
    Conflict.objects.filter(
        Q(change_id=change.pk) | Q(other_change_id=change.pk, kind__in=MIRRORED)
    ).delete()
    Conflict.objects.bulk_create(found)
    if scope is not None and change.state == ChangeState.IMPLEMENT and change.model.is_emergency:
        _warn_emergency(change, scope)
    return [c for c in found if c.change_id == change.pk]


def _warn_emergency(change: Change, scope: Scope) -> None:
    occurrence = blackout_at(change, timezone.now(), scope)
    if occurrence is None:
        return
    already = JournalEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Change),
        object_id=change.pk,
        data__emergency_blackout=occurrence.window.pk,
    ).exists()
    if not already:
        _journal(
            [change.pk],
            None,
            said(
                gettext_noop("Emergency change implemented during blackout %(window)s (%(when)s)."),
                window=occurrence.window.name,
                when=_occurrence_said(occurrence),
            ),
            {"emergency_blackout": occurrence.window.pk},
        )


def _journal(change_ids, actor, body: Said, data: dict | None = None) -> None:
    """One internal journal entry on each of these changes, in one insert: the platform's
    sentence stored in English and read in each reader's language (as
    ``core.write_journal`` keeps it)."""
    content_type = ContentType.objects.get_for_model(Change)
    data = {**(data or {}), "said": body.as_data()}
    english = body.in_english()
    JournalEntry.objects.bulk_create(
        JournalEntry(
            content_type=content_type,
            object_id=pk,
            kind=JournalEntry.Kind.FIELDS,
            actor=actor,
            body=english,
            data=data,
            internal=True,
        )
        for pk in change_ids
    )


def current(queryset):
    """Conflict rows still worth showing: the other change is still in the schedule."""
    return queryset.filter(Q(other_change__isnull=True) | Q(other_change__state__in=IN_FLIGHT))


def seen_by(queryset, user):
    """Conflicts as ``user`` may read them. Under data separation the other side of a
    conflict may be a change (or a CI) of another team or customer: the conflict is still
    shown (it is a fact about the change they see) but names neither; each row says
    whether its other change and CI may be named (``Conflict.other_named`` and
    ``ci_named``, read by ``for_reader``). In the same query."""
    from cmdb.models import ConfigurationItem

    changes = Change.objects.visible_to(user).filter(pk=OuterRef("other_change_id"))
    cis = ConfigurationItem.objects.visible_to(user).filter(pk=OuterRef("configuration_item_id"))
    return queryset.annotate(other_named=Exists(changes), ci_named=Exists(cis))


def panel(change, user) -> dict:
    """What the change page's conflicts block shows (``templates/changes/_conflicts.html``):
    one query."""
    rows = seen_by(current(change.conflicts.all()), user).select_related(
        "other_change", "window", "configuration_item"
    )
    return {"conflicts": list(rows), "scheduled": _scheduled(change)}


# Implementation -------------------------------------------------------------------------


def blackout_at(change: Change, at: datetime, scope: Scope | None = None):
    """The blackout occurrence covering ``at`` for the change's CIs, classes or services."""
    scope = scope or scope_of(change, kinds=[WindowKind.BLACKOUT])
    for window in scope.of_kind(WindowKind.BLACKOUT):
        for occurrence in windows_module.occurrences(window, at, at + timedelta(microseconds=1)):
            return occurrence
    return None


def implementation_refusal(change, at) -> str | None:
    """Why the change may not start implementation at ``at`` (on hold, inside a blackout),
    or None. Checked at that moment: a freeze that started after the change was
    scheduled still stops it. An emergency change goes ahead inside a blackout (its
    detection journals the warning)."""
    if change.on_hold:
        return gettext("The change is on hold: %(reason)s.") % {
            "reason": change.hold_reason or gettext("a freeze")
        }
    occurrence = blackout_at(change, at)
    if occurrence is not None and not change.model.is_emergency:
        return gettext(
            "%(window)s is a blackout (%(when)s): no changes start now. "
            "Only an emergency change may."
        ) % {"window": occurrence.window.name, "when": _occurrence_said(occurrence)}
    return None


# Freezes ------------------------------------------------------------------------------


def may_manage_blackouts(user) -> bool:
    return is_change_manager(user)


def may_manage_maintenance(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("changes.manage_maintenance"))


def _matching_changes(window: ScheduleWindow, ci_ids, service_ids, start, end):
    changes = Change.objects.filter(state__in=BEFORE_IMPLEMENTATION, on_hold=False).filter(
        Q(planned_end__isnull=True) | Q(planned_end__gt=start)
    )
    if end is not None:
        changes = changes.filter(Q(planned_start__isnull=True) | Q(planned_start__lt=end))
    if ci_ids or service_ids:
        changes = changes.filter(
            Q(configuration_items__in=ci_ids) | Q(services__in=service_ids)
        ).distinct()
    return changes


@transaction.atomic
def freeze(
    actor,
    name: str = "",
    incident=None,
    configuration_items=(),
    services=(),
    until: datetime | None = None,
    description: str = "",
) -> ScheduleWindow:
    """Enter a change lockdown now: a blackout (naming the incident, if any) over these
    CIs and services (none: everything) until ``until`` (None: until lifted). Matching
    changes not yet implementing are put on hold, each journalled, in bulk."""
    if not may_manage_blackouts(actor):
        raise PermissionDenied
    name = (name or "").strip() or (
        gettext("Freeze for %(number)s") % {"number": incident.number} if incident else ""
    )
    if not name:
        raise ValidationError({"name": _("Name the freeze.")})
    now = timezone.now().replace(microsecond=0)
    if until is not None and until <= now:
        raise ValidationError({"until": _("A freeze ends in the future.")})
    window = ScheduleWindow.objects.create(
        name=name[:200],
        kind=WindowKind.BLACKOUT,
        description=description
        or (
            gettext("Change lockdown during %(number)s.") % {"number": incident.number}
            if incident
            else ""
        ),
        starts_at=now,
        ends_at=until or now + windows_module.OPEN_ENDED,
        incident=incident,
        created_by=actor,
    )
    ci_ids = [getattr(ci, "pk", ci) for ci in configuration_items]
    service_ids = [getattr(s, "pk", s) for s in services]
    if ci_ids:
        window.configuration_items.set(ci_ids)
    if service_ids:
        window.services.set(service_ids)
    ids = list(
        _matching_changes(window, ci_ids, service_ids, now, until).values_list("pk", flat=True)
    )
    reason = f"Freeze {window.name}" + (f" ({incident.number})" if incident else "")
    if ids:
        Change.objects.filter(pk__in=ids).update(
            on_hold=True, hold_reason=reason[:300], version=F("version") + 1, updated_at=now
        )
        window.held_changes.add(*ids)
        _journal(
            ids,
            actor,
            said(gettext_noop("On hold: %(reason)s."), reason=reason),
            {"freeze": window.pk, "on_hold": True},
        )
    return window


@transaction.atomic
def lift(window: ScheduleWindow, actor) -> list[int]:
    """End a freeze now: the blackout stops, and the changes it held are taken off hold
    (unless another freeze still holds them), each journalled. Returns their ids."""
    if not may_manage_blackouts(actor):
        raise PermissionDenied
    window = ScheduleWindow.objects.select_for_update().get(pk=window.pk)
    if window.lifted_at is not None:
        raise ValidationError(
            {"lifted_at": gettext("%(window)s was already lifted.") % {"window": window.name}}
        )
    now = timezone.now()
    window.lifted_at = now
    window.save(update_fields=["lifted_at"])
    still_held = ScheduleWindow.held_changes.through.objects.filter(
        change_id=OuterRef("pk"), schedulewindow__lifted_at__isnull=True
    ).exclude(schedulewindow_id=window.pk)
    ids = list(
        window.held_changes.filter(on_hold=True)
        .exclude(Exists(still_held))
        .values_list("pk", flat=True)
    )
    if ids:
        Change.objects.filter(pk__in=ids).update(
            on_hold=False, hold_reason="", version=F("version") + 1, updated_at=now
        )
        _journal(
            ids,
            actor,
            said(gettext_noop("Off hold: freeze %(window)s lifted."), window=window.name),
            {"freeze": window.pk, "on_hold": False},
        )
    return ids


# Schedule windows: writes ----------------------------------------------------------------


def check_window_permission(actor, kind: str) -> None:
    """Administrators keep maintenance windows; change managers also keep blackouts."""
    allowed = may_manage_maintenance(actor) or (
        kind == WindowKind.BLACKOUT and may_manage_blackouts(actor)
    )
    if not allowed:
        raise PermissionDenied


#: How many scheduled changes a window's edit re-checks at once (the soonest first).
REDETECT_LIMIT = 200


def redetect_for_window(window: ScheduleWindow) -> int:
    """Re-detect the conflicts of the soonest in-flight changes a window's edit may touch
    (in its scope, planned from now). Returns how many."""
    ci_ids = list(window.configuration_items.values_list("pk", flat=True))
    class_ids = list(window.ci_classes.values_list("pk", flat=True))
    service_ids = list(window.services.values_list("pk", flat=True))
    changes = Change.objects.filter(
        state__in=IN_FLIGHT, planned_end__gt=timezone.now(), planned_start__isnull=False
    ).select_related("model", "assigned_to")
    if ci_ids or class_ids or service_ids:
        descendants = set(class_ids)
        if class_ids:
            parents = dict(CIClass.objects.values_list("pk", "parent_id"))
            changed = True
            while changed:
                more = {pk for pk, parent in parents.items() if parent in descendants}
                changed = not more <= descendants
                descendants |= more
        changes = changes.filter(
            Q(configuration_items__in=ci_ids)
            | Q(configuration_items__ci_class__in=descendants)
            | Q(services__in=service_ids)
        ).distinct()
    batch = list(changes.order_by("planned_start", "pk")[:REDETECT_LIMIT])
    from . import risk  # a window decides facts of the risk (in a blackout, outside maintenance)

    for change in batch:
        detect(change)
        risk.calculate(change)
    return len(batch)


# The scheduling assistant --------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    #: the maintenance window it falls in, if the CIs have some
    window: str = ""


def _grid(moment: datetime, minutes: int = 30) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    extra = (-moment.minute) % minutes
    return moment + timedelta(minutes=extra)


def next_free_slots(
    change: Change,
    duration: timedelta,
    count: int = 5,
    horizon_days: int = 30,
    after: datetime | None = None,
) -> list[Slot]:
    """The next ``count`` windows of ``duration`` within ``horizon_days`` where the change
    could go without a conflict of its CIs: inside the maintenance windows of every CI
    that has some, outside blackouts, clear of other in-flight changes on the same or a
    related CI. Candidates start on the half hour, at maintenance occurrences' starts and
    where a busy period ends."""
    if duration <= timedelta(0):
        raise ValidationError({"duration": _("A duration of at least a minute.")})
    count = max(1, min(int(count), 50))
    horizon_days = max(1, min(int(horizon_days), 366))
    start = _grid(after or timezone.now())
    end = start + timedelta(days=horizon_days)
    scope = scope_of(change)
    mine = set(scope.ci_names)
    touched = mine | set(_related(mine))
    busy = []
    if touched:
        busy = sorted(
            {(s, e) for _, _, s, e, _, _ in _overlapping_changes(change, touched, start, end)}
        )
    blackouts = [
        (o.start, o.end)
        for o in windows_module.all_occurrences(
            scope.of_kind(WindowKind.BLACKOUT), start, end + duration
        )
    ]
    blocked = sorted(busy + blackouts)
    # Each CI with maintenance windows needs the slot inside one of its occurrences.
    requirements = []
    for ci_id in scope.ci_names:
        windows = [
            w for w in scope.ci_windows(ci_id, WindowKind.MAINTENANCE) if not w.unscoped
        ] or [w for w in scope.of_kind(WindowKind.MAINTENANCE) if w.unscoped]
        if windows:
            requirements.append(windows_module.all_occurrences(windows, start, end + duration))
    whole = [
        w
        for w in scope.of_kind(WindowKind.MAINTENANCE)
        if scope.window_whole.get(w.pk) and (not w.unscoped or not scope.ci_names)
    ]
    if whole:
        requirements.append(windows_module.all_occurrences(whole, start, end + duration))
    candidates = {e for _, e in blocked if start <= e < end}
    if requirements:
        for occurrences in requirements:
            for occurrence in occurrences:
                moment = max(occurrence.start, start)
                while moment + duration <= occurrence.end and moment < end:
                    candidates.add(moment)
                    moment = _grid(moment + timedelta(minutes=1))
    else:
        moment = start
        while moment < end:
            candidates.add(moment)
            moment += timedelta(minutes=30)
    slots: list[Slot] = []
    for candidate in sorted(candidates):
        finish = candidate + duration
        if any(s < finish and candidate < e for s, e in blocked):
            continue
        label = ""
        fits = True
        for occurrences in requirements:
            holder = next((o for o in occurrences if o.contains(candidate, finish)), None)
            if holder is None:
                fits = False
                break
            label = label or holder.window.name
        if not fits:
            continue
        if slots and candidate < slots[-1].end:
            continue
        slots.append(Slot(candidate, finish, label))
        if len(slots) >= count:
            break
    return slots


# Published to other practices (``itsm.core.schedule``) -----------------------------------


def under_change(ci_ids: set, at: datetime) -> dict[int, str]:
    """The CIs among ``ci_ids`` under change at ``at``: in an approved change's window
    (scheduled or implementing, not on hold) or inside one of their maintenance windows'
    occurrences. A few queries whatever the number of CIs."""
    found: dict[int, str] = {}
    through = Change.configuration_items.through
    rows = (
        through.objects.filter(
            configurationitem_id__in=ci_ids,
            change__state__in=(ChangeState.SCHEDULED, ChangeState.IMPLEMENT),
            change__on_hold=False,
            change__planned_start__lte=at,
            change__planned_end__gt=at,
        )
        .order_by("change__planned_start")
        .values_list(
            "configurationitem_id", "change__number", "change__title", "change__planned_end"
        )
    )
    for ci_id, number, title, end in rows:
        found.setdefault(
            ci_id,
            gettext("%(number)s %(title)s, until %(end)s")
            % {"number": number, "title": title, "end": moment_text(end)},
        )
    remaining = set(ci_ids) - set(found)
    if remaining:
        classes = dict(
            ConfigurationItem.objects.filter(pk__in=remaining).values_list("pk", "ci_class_id")
        )
        lineage = _class_lineage(set(classes.values()))
        all_classes = set().union(*lineage.values()) if lineage else set()
        windows, cis_of, named = _windows_for(
            remaining, all_classes, set(), kinds=[WindowKind.MAINTENANCE]
        )
        for window in windows:
            if not windows_module.occurrences(window, at, at + timedelta(microseconds=1)):
                continue
            covered = set(cis_of.get(window.pk, ()))
            window_classes = named["classes"].get(window.pk, set())
            if window_classes:
                covered |= {
                    pk for pk, class_id in classes.items() if lineage[class_id] & window_classes
                }
            if window.unscoped:
                covered = set(remaining)
            for ci_id in covered:
                found.setdefault(
                    ci_id, gettext("Maintenance window %(window)s") % {"window": window.name}
                )
    return found
