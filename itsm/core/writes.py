"""The one write path of every tracked type: ``open`` makes a row, ``change`` changes one.

A type declares a ``WriteSpec`` (in its app's ``services.py``): which fields staff and end
users may set on create and on update, how input is normalised, which fields are derived
from others (an incident's priority from its impact and urgency), the cross-field checks,
the many-to-many fields, and the effects that are truly its own (a major incident's
announcement, a problem resolving its incidents). The kernel does the rest, the same way
for every type:

- one rule for who may write: staff (or the platform itself, ``actor`` None) always; an
  end user only the fields the spec grants them, each refused field named in a 400;
- one transaction, the row locked and a stale ``expected_version`` refused
  (``StaleVersion``: 412 in the API, the conflict overlay on the screens);
- the journal diff from a snapshot taken when the row was locked, so nothing keeps a
  hand-made list of the fields a transition or a derivation touched;
- the workflow transition checked and taken, its notices sent and its after-commit effects
  queued; the assignee told when someone else assigns them;
- only the columns that changed saved, with ``version`` and ``updated_at``; the practices
  that listen (service level management) told in the same transaction.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import services as core
from .i18n import Said
from .models import JournalEntry, Record
from .numbering import next_number

#: Columns the kernel keeps itself.
BOOKKEEPING = frozenset({"id", "version", "updated_at", "created_at", "number"})


def is_staff(actor) -> bool:
    """Staff of the workspace, or the platform itself (``actor`` None: scheduled jobs,
    the demo, event ingestion). The one meaning of "staff" in every write."""
    return actor is None or actor.is_agent


@dataclass(frozen=True)
class Access:
    """The fields staff and end users may set, and the platform itself (``actor`` None:
    what it moves on its own, such as a request's approval level; staff's by default)."""

    staff: tuple[str, ...]
    end_user: tuple[str, ...] = ()
    platform: tuple[str, ...] | None = None

    def fields_for(self, actor) -> tuple[str, ...]:
        if actor is None:
            return self.staff if self.platform is None else self.platform
        return self.staff if actor.is_agent else self.end_user


@dataclass(frozen=True)
class Notice:
    """A message a write sends, in the same transaction (the outbox delivers it after
    commit): to whom, subject and body, each a function of ``(record, actor)`` called in
    each recipient's language; ``when`` may hold it back (``(record, actor) -> bool``)."""

    to: Callable
    subject: Callable
    body: Callable
    when: Callable | None = None

    def send(self, record, actor) -> None:
        if self.when is not None and not self.when(record, actor):
            return
        recipients = [r for r in self.to(record, actor) if r is not None]
        if recipients:
            core.notify(
                recipients,
                lambda: self.subject(record, actor),  # worded in each recipient's language
                lambda: self.body(record, actor),
                record,
            )


@dataclass
class Write:
    """What one write did: the row as it was (``before``; None for a new row), the
    journal diff (``{field: [old, new]}`` display values, ``state`` included), the
    transition taken, the many-to-many values before, and the caller's options."""

    before: object | None
    diff: dict = field(default_factory=dict)
    transition: object | None = None
    m2m_before: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    @property
    def created(self) -> bool:
        return self.before is None

    def __contains__(self, name: str) -> bool:
        return name in self.diff

    def moved(self, to=None, source=None) -> bool:
        """The state changed (to ``to``, from ``source`` when given)."""
        if "state" in self.diff:
            old, new = self.diff["state"]
        elif self.transition is not None:  # taken, not yet diffed (a derivation asks)
            old, new = self.before.state, self.transition.target
        else:
            return False
        return (to is None or new == to) and (source is None or old == source)


@dataclass
class WriteSpec:
    """What a type declares about its writes. Hooks get the row being written, the actor
    and the ``Write``; each may raise ``ValidationError`` (naming the field) to refuse."""

    model: type
    create: Access
    update: Access
    #: many-to-many fields among those above (set after the row is saved, diffed)
    m2m: tuple[str, ...] = ()
    #: saved but not journaled (timestamps and counters a transition keeps)
    quiet: tuple[str, ...] = ()
    #: per field, a function ``(old, new) -> {key: [old, new]}`` that journals the field
    #: as several entries (a CI's attributes, one per attribute)
    expand: dict = field(default_factory=dict)
    #: the message a refused field gets
    refused: str = _("This field cannot be set.")
    #: ``(data, actor) -> data``: normalise input (strip names, coerce numbers) before use
    clean: Callable | None = None
    #: ``(actor, data, options) -> dict``: on create, the fields the platform sets itself
    initial: Callable | None = None
    #: ``(obj, actor, change)``: set derived fields once the input is applied and the
    #: transition (``change.transition``) taken
    derive: Callable | None = None
    #: ``(obj, changed: set | None)``: cross-field checks (None: a new row, check all)
    validate: Callable | None = None
    #: run the model's own ``full_clean`` (formats, choices, uniqueness) too
    full_clean: bool = False
    #: ``(obj, actor)``: refuse a change to this row by this actor (PermissionDenied or a
    #: ValidationError), before anything is applied
    guard: Callable | None = None
    #: ``(obj) -> dict``: the ``created`` journal entry's data
    created_data: Callable | None = None
    created_internal: bool = False
    #: ``(obj, actor, change)``: after the row and its many-to-many values are saved,
    #: before the journal (keys of a CI, links of a problem's incidents, a calendar's
    #: hours); it may add to ``change.diff`` what it changed
    saved: Callable | None = None
    #: ``(obj, actor, change)``: the type's own effects once everything is written
    after: Callable | None = None
    #: sent to the new assignee when someone else assigns a record
    on_assign: Notice | None = None

    # Input ------------------------------------------------------------------------------

    def refuse_unknown(self, actor, data: dict, access: Access) -> None:
        """A type that grants end users no field refuses them outright (403); otherwise
        each field they may not set is named (400)."""
        if not is_staff(actor) and not access.end_user:
            raise PermissionDenied
        refused = sorted(set(data) - set(access.fields_for(actor)))
        if refused:
            raise ValidationError(dict.fromkeys(refused, self.refused))


def _snapshot(obj):
    """A detached copy of the row as it is now (JSON values copied deeply)."""
    before = copy.copy(obj)
    for f in obj._meta.concrete_fields:
        if isinstance(f, models.JSONField):
            setattr(before, f.attname, copy.deepcopy(getattr(obj, f.attname)))
    return before


def field_diff(spec: WriteSpec, before, after) -> tuple[dict, list[str]]:
    """The journal diff between two states of a row, and the columns that changed."""
    diff: dict = {}
    columns: list[str] = []
    for f in after._meta.concrete_fields:
        if f.name in BOOKKEEPING or f.primary_key:
            continue
        old, new = getattr(before, f.attname), getattr(after, f.attname)
        if old == new:
            continue
        columns.append(f.attname)
        if f.name == "state":  # the journal and the effects speak of states by name
            diff["state"] = [old, new]
        elif f.name in spec.expand:
            diff.update(spec.expand[f.name](old, new))
        else:
            diff[f.name] = [core.display_value(before, f.name), core.display_value(after, f.name)]
    return diff, columns


def _set_m2m(obj, values: dict, change: Write) -> None:
    for name, objects in values.items():
        objects = list(objects or [])
        manager = getattr(obj, name)
        old = {o.pk: str(o) for o in manager.all()}
        new = {o.pk: str(o) for o in objects}
        change.m2m_before[name] = set(old)
        if set(old) == set(new):
            continue
        manager.set(objects)
        change.diff[name] = [sorted(old.values()), sorted(new.values())]


def _apply(obj, data: dict) -> None:
    for name, value in data.items():
        setattr(obj, name, value)


def _journal(spec: WriteSpec, obj, actor, change: Write) -> None:
    diff = change.diff
    fields = {k: v for k, v in diff.items() if k != "state" and k not in spec.quiet}
    if fields:
        core.write_journal(obj, JournalEntry.Kind.FIELDS, actor, data=fields, internal=True)
    if "state" in diff:
        note = change.options.get("state_note") or ""
        core.write_journal(
            obj,
            JournalEntry.Kind.STATE,
            actor,
            # A sentence the platform words (said) is read in each reader's language.
            body=note if isinstance(note, Said) else str(note).strip()[:2000],
            data={"from": diff["state"][0], "to": diff["state"][1]},
        )


def _after_write(spec: WriteSpec, obj, actor, change: Write) -> None:
    transition = change.transition
    if transition is not None:
        for notice in transition.notices:
            notice.send(obj, actor)
    if (
        spec.on_assign is not None
        and "assigned_to" in change.diff
        and getattr(obj, "assigned_to_id", None)
        and (actor is None or obj.assigned_to_id != actor.pk)
    ):
        spec.on_assign.send(obj, actor)
    if spec.after is not None:
        spec.after(obj, actor, change)
    if transition is not None:
        for effect in transition.after_commit:
            transaction.on_commit(lambda effect=effect: effect(obj, actor))


@transaction.atomic
def open(spec: WriteSpec, actor, data: dict, **options):
    """Make a new row of the spec's type from ``data`` (model values: instances for
    relations, lists for many-to-many fields); returns it saved and journaled."""
    data = dict(data)
    spec.refuse_unknown(actor, data, spec.create)
    if spec.clean is not None:
        data = spec.clean(data, actor)
    m2m = {name: data.pop(name) for name in spec.m2m if name in data}
    change = Write(before=None, options=options)
    fixed = spec.initial(actor, data, options) if spec.initial is not None else {}
    obj = spec.model(**{**data, **fixed})
    if isinstance(obj, Record) and not obj.state:
        obj.state = obj.workflow.initial
    if spec.derive is not None:
        spec.derive(obj, actor, change)
    if spec.validate is not None:
        spec.validate(obj, None)
    if spec.full_clean:
        _full_clean(obj)
    if isinstance(obj, Record) and not obj.number:
        obj.number = next_number(obj.NUMBER_PREFIX)
    obj.save()
    _set_m2m(obj, m2m, change)
    if spec.saved is not None:
        spec.saved(obj, actor, change)
    created = spec.created_data(obj) if spec.created_data is not None else {}
    core.write_journal(
        obj, JournalEntry.Kind.CREATED, actor, data=created, internal=spec.created_internal
    )
    core.announce(obj, actor, {}, created=True)
    _after_write(spec, obj, actor, change)
    return obj


@transaction.atomic
def change(spec: WriteSpec, obj, actor, data: dict, expected_version=None, **options):
    """Change fields and/or the state of ``obj`` in one step; returns the saved row (a
    fresh instance: the one read under the lock)."""
    data = dict(data)
    if spec.guard is not None:
        spec.guard(obj, actor)
    spec.refuse_unknown(actor, data, spec.update)
    locked = core.lock(obj, expected_version)
    if spec.guard is not None and locked is not obj:
        spec.guard(locked, actor)  # what the caller read may have moved on
    if spec.clean is not None:
        data = spec.clean(data, actor)
    target = data.pop("state", None)
    m2m = {name: data.pop(name) for name in spec.m2m if name in data}
    workflow = getattr(locked, "workflow", None)
    if workflow is not None and workflow.is_final(locked.state) and (data or m2m):
        raise ValidationError(
            {
                "state": gettext("%(record)s is %(state)s; it can no longer be changed.")
                % {"record": locked.reference, "state": str(workflow.label(locked.state)).lower()}
            }
        )
    before = _snapshot(locked)
    change = Write(before=before, options=options)
    _apply(locked, data)
    if target is not None and target != locked.state:
        change.transition = workflow.apply(locked, target, actor)
    if spec.derive is not None:
        spec.derive(locked, actor, change)
    diff, columns = field_diff(spec, before, locked)
    if spec.validate is not None:
        spec.validate(locked, set(diff))
    if spec.full_clean:
        _full_clean(locked)
    change.diff = diff
    _set_m2m(locked, m2m, change)
    if columns:
        _save(locked, columns)
    if spec.saved is not None:
        spec.saved(locked, actor, change)  # parts of the row (a calendar's hours) add diffs
    if not change.diff:
        return locked
    if not columns:  # many-to-many or parts only: still a new version of the row
        _save(locked, [])
    _journal(spec, locked, actor, change)
    core.announce(locked, actor, change.diff)
    _after_write(spec, locked, actor, change)
    return locked


@transaction.atomic
def touch(obj, actor, body: str = "", data: dict | None = None, expected_version=None):
    """Something that belongs to the row changed (a problem's cause, a CI's relationship):
    its version moves on (an ETag read before is stale) and the journal says what."""
    locked = core.lock(obj, expected_version)
    _save(locked, [])
    core.write_journal(locked, JournalEntry.Kind.FIELDS, actor, body=body, data=data, internal=True)
    return locked


def bump(obj) -> None:
    """Something shown with the row changed and the caller journalled it (an approval
    recorded on a request): its version moves on, so an ETag read before is stale. The
    caller holds the row's lock."""
    _save(obj, [])


def _save(obj, columns: list[str]) -> None:
    obj.version += 1
    obj.updated_at = timezone.now()
    obj.save(update_fields=[*columns, "version", "updated_at"])


def _full_clean(obj) -> None:
    try:
        obj.full_clean(validate_constraints=True)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


# Checks every record type shares ---------------------------------------------------------


def check_assignment(record, changed: set | None, errors: dict) -> None:
    """The assignee belongs to the assignment group, and the group is active."""

    def touched(*names) -> bool:
        return changed is None or any(name in changed for name in names)

    if touched("assigned_to", "assignment_group") and record.assigned_to_id:
        if not record.assignment_group_id:
            errors["assigned_to"] = gettext("Choose an assignment group first.")
        elif not record.assignment_group.members.filter(pk=record.assigned_to_id).exists():
            errors["assigned_to"] = gettext("%(person)s is not a member of %(team)s.") % {
                "person": record.assigned_to,
                "team": record.assignment_group,
            }
    if touched("assignment_group") and record.assignment_group_id:
        if not record.assignment_group.active:
            errors["assignment_group"] = gettext("%(team)s is not an active team.") % {
                "team": record.assignment_group
            }


def unassign_outside_group(record, actor, change: Write) -> None:
    """A new group keeps the assignee only if they are one of its members (a derivation
    for records whose assignee follows the group)."""
    before = change.before
    if before is None or record.assignment_group_id == before.assignment_group_id:
        return
    if record.assigned_to_id != before.assigned_to_id or not record.assigned_to_id:
        return  # the caller chose the assignee too
    if (
        not record.assignment_group_id
        or not record.assignment_group.members.filter(pk=record.assigned_to_id).exists()
    ):
        record.assigned_to = None


def assigned_notice(kind: str) -> Notice:
    """ "INC0001001 assigned to you: …" for a record type called ``kind``."""
    return Notice(
        to=lambda record, actor: [record.assigned_to],
        subject=lambda record, actor: (
            gettext("%(number)s assigned to you: %(title)s")
            % {"number": record.number, "title": record.title}
        ),
        body=lambda record, actor: (
            gettext("%(actor)s assigned %(kind)s %(number)s to you.")
            % {
                "actor": actor or gettext("The service desk"),
                "kind": kind,
                "number": record.number,
            }
            + f"\n\n{record.description}"
        ),
    )


def refuse(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def reject_end_users(obj, actor) -> None:
    """A guard: only staff write this type."""
    if not is_staff(actor):
        raise PermissionDenied
