"""Retention: closed records older than a rule's years are pseudonymised or removed,
idempotently, skipping what a legal hold keeps."""

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, router, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone

from itsm.audit.db import rewriting
from itsm.audit.services import record as audit
from itsm.core.models import Attachment, JournalEntry, Record

from . import scrub
from .models import LegalHold, RetentionRule

#: The time a record was closed, by the first of these fields a record type has.
CLOSED_FIELDS = ("closed_at", "retired_at", "ended_at")
#: The account standing for the people of pseudonymised records.
PSEUDONYM_USERNAME = "pseudonymised-person"
#: Rows handled per transaction (a long run does not hold one long transaction).
BATCH = 200


def record_types() -> list[type[Record]]:
    """The concrete record types of the platform (every ``Record`` subclass)."""
    return [
        m
        for m in apps.get_models()
        if issubclass(m, Record) and not m._meta.proxy and not m._meta.abstract
    ]


def record_type_choices(closed: bool = True):
    """The content types of the record types (with ``closed``: those with a closed time,
    which a retention rule may name)."""
    models_ = [m for m in record_types() if not closed or closed_field(m)]
    cts = ContentType.objects.get_for_models(*models_)
    return models.Q(pk__in=[ct.pk for ct in cts.values()])


def closed_field(model) -> str | None:
    names = {f.name for f in model._meta.concrete_fields}
    return next((name for name in CLOSED_FIELDS if name in names), None)


def people_fields(model) -> list[models.ForeignKey]:
    """The fields naming the people a record is about (its requester, caller, who opened
    or requested it…): every foreign key to the user model but the assignee's (the staff
    member working it)."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return [
        f
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is user_model and f.name != "assigned_to"
    ]


def pseudonym_user():
    """The one account that stands for the people of pseudonymised records: inactive,
    without a password, named as what it is."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    user, created = user_model.objects.get_or_create(
        username=PSEUDONYM_USERNAME,
        defaults={"first_name": "Pseudonymised", "last_name": "person", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@dataclass
class RetentionResult:
    dry_run: bool = False
    pseudonymised: int = 0
    removed: int = 0
    held: int = 0
    #: removal refused by a reference that protects the record (kept as it is)
    kept_referenced: int = 0
    by_rule: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "pseudonymised": self.pseudonymised,
            "removed": self.removed,
            "held": self.held,
            "kept_referenced": self.kept_referenced,
            "by_rule": self.by_rule,
        }


def held_ids(model) -> set[int]:
    ct = ContentType.objects.get_for_model(model)
    return set(
        LegalHold.objects.active().filter(content_type=ct).values_list("object_id", flat=True)
    )


def due(rule: RetentionRule, now=None):
    """The records of the rule's type closed for more than its years, not yet handled
    (pseudonymised records name only the pseudonym; removed ones are gone), held ones
    included (the caller skips them and counts them)."""
    model = rule.record_type.model_class()
    closed = closed_field(model)
    now = now or timezone.now()
    cutoff = now - timedelta(days=365 * rule.closed_for_years + rule.closed_for_years // 4)
    queryset = model._default_manager.filter(
        **{f"{closed}__isnull": False, f"{closed}__lt": cutoff}
    )
    if rule.action == RetentionRule.Action.PSEUDONYMISE:
        user_model = apps.get_model(settings.AUTH_USER_MODEL)
        pseudonym = user_model.objects.filter(username=PSEUDONYM_USERNAME).first()
        others = models.Q()
        for f in people_fields(model):
            named = models.Q(**{f"{f.attname}__isnull": False})
            if pseudonym is not None:
                named &= ~models.Q(**{f.attname: pseudonym.pk})
            others |= named
        queryset = queryset.filter(others) if others else queryset.none()
    return queryset.order_by("pk")


def apply(dry_run: bool = False, now=None, actor=None) -> RetentionResult:
    """Apply every active rule; returns the counts (and audits the run)."""
    result = RetentionResult(dry_run=dry_run)
    for rule in RetentionRule.objects.filter(active=True).select_related("record_type"):
        model = rule.record_type.model_class()
        if model is None or closed_field(model) is None:
            continue
        counts = {"done": 0, "held": 0, "kept_referenced": 0}
        held = held_ids(model)
        ids = list(due(rule, now).values_list("pk", flat=True))
        todo = [pk for pk in ids if pk not in held]
        counts["held"] = len(ids) - len(todo)
        if not dry_run:
            for start in range(0, len(todo), BATCH):
                batch = todo[start : start + BATCH]
                if rule.action == RetentionRule.Action.REMOVE:
                    done, kept = _remove(model, batch)
                    counts["kept_referenced"] += kept
                else:
                    done = _pseudonymise(model, batch)
                counts["done"] += done
        else:
            counts["done"] = len(todo)
        result.held += counts["held"]
        result.kept_referenced += counts["kept_referenced"]
        if rule.action == RetentionRule.Action.REMOVE:
            result.removed += counts["done"]
        else:
            result.pseudonymised += counts["done"]
        result.by_rule[str(rule.pk)] = {"rule": str(rule), **counts}
    if not dry_run:
        audit("privacy.retention_applied", actor=actor, **result.as_dict())
    return result


def _people_replacements(users, pseudonym) -> scrub.Replacements:
    from .services import replacement_pairs

    name = pseudonym.get_full_name()
    return scrub.Replacements(
        [pair for u in users for pair in replacement_pairs(u, name, pseudonym.username)]
    )


def _rewrite_rows(model, rows, replacements_of, moved: list) -> None:
    """Rewrite each row's text by the replacements of its record (``replacements_of``:
    the record's id -> ``Replacements``), moving stored files named after them."""
    for row in rows:
        values = scrub.rewrite(row, replacements_of[row.object_id])
        if values:
            moved += scrub.move_files(row, values)
            model._base_manager.filter(pk=row.pk).update(**values)


def _pseudonymise(model, ids: list[int]) -> int:
    """Replace the people of these records by the pseudonym: their fields, their names in
    the records' text, timeline and attachments (entries they wrote are kept, by the
    pseudonym). A batch costs a few queries, plus one per record and per rewritten row."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    pseudonym = pseudonym_user()
    fields = people_fields(model)
    ct = ContentType.objects.get_for_model(model)
    moved: list[tuple] = []
    with rewriting("privacy retention"):
        rows = list(model._default_manager.select_for_update().filter(pk__in=ids))
        people_of = {
            obj.pk: {getattr(obj, f.attname) for f in fields} - {None, pseudonym.pk} for obj in rows
        }
        rows = [obj for obj in rows if people_of[obj.pk]]
        everyone = set().union(*people_of.values()) if people_of else set()
        users = user_model.objects.in_bulk(everyone)
        by_people: dict[frozenset, scrub.Replacements] = {}
        replacements_of = {}
        for obj in rows:  # one set of replacements per set of people (a caller's many)
            key = frozenset(people_of[obj.pk])
            if key not in by_people:
                named = [users[pk] for pk in key if pk in users]
                by_people[key] = _people_replacements(named, pseudonym)
            replacements_of[obj.pk] = by_people[key]
        # Records whose text names nobody change only their people: one UPDATE for all
        # that replace the same fields.
        same: dict[tuple, list[int]] = defaultdict(list)
        for obj in rows:
            people = people_of[obj.pk]
            replaced = tuple(f.attname for f in fields if getattr(obj, f.attname) in people)
            update = scrub.rewrite(obj, replacements_of[obj.pk])
            if not update:
                same[replaced].append(obj.pk)
                continue
            update.update(dict.fromkeys(replaced, pseudonym.pk))
            if hasattr(obj, "version"):
                update["version"] = models.F("version") + 1
            model._default_manager.filter(pk=obj.pk).update(**update)
        for replaced, pks in same.items():
            update = dict.fromkeys(replaced, pseudonym.pk)
            if hasattr(model, "version"):
                update["version"] = models.F("version") + 1
            model._default_manager.filter(pk__in=pks).update(**update)
        if not rows:
            return 0
        pks = [obj.pk for obj in rows]
        union = scrub.Replacements([p for r in by_people.values() for p in r.pairs])
        for kept_model, person_field in ((JournalEntry, "actor"), (Attachment, "uploaded_by")):
            mine = kept_model._base_manager.filter(content_type=ct, object_id__in=pks)
            # who wrote or added what on each record (the record's own people): one UPDATE
            records_of: dict[frozenset, list[int]] = defaultdict(list)
            for pk in pks:
                records_of[frozenset(people_of[pk])].append(pk)
            theirs = models.Q()
            for people, records in records_of.items():
                theirs |= models.Q(object_id__in=records, **{f"{person_field}_id__in": people})
            mine.filter(theirs).update(**{person_field: pseudonym})
            _rewrite_rows(kept_model, scrub.candidates(mine, union), replacements_of, moved)
    if moved:
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in moved])
    return len(rows)


def generic_references():
    """(model, content type field, id field) of every generic reference to a row of any
    model (timeline, attachments, links, notifications, SLA timers…), bar the audit log's
    and the holds'."""
    from django.contrib.contenttypes.fields import GenericForeignKey

    found = []
    for m in apps.get_models():
        if m._meta.app_label in ("audit", "privacy") or m._meta.proxy:
            continue
        for f in m._meta.private_fields:
            if isinstance(f, GenericForeignKey):
                found.append((m, f.ct_field, f.fk_field))
    return found


def _remove(model, ids: list[int]) -> tuple[int, int]:
    """Delete these records with everything that hangs on them: rows that cascade (a
    request's tasks), and for each of them its timeline, attachments and their files,
    links, notifications and timers. The batch goes at once; if another row protects one
    of them (a problem an incident still names…), one by one, and those are kept and
    counted."""
    removed = kept = 0
    with rewriting("privacy retention", remove=True):
        try:
            with transaction.atomic():
                objs = list(model._default_manager.select_for_update().filter(pk__in=ids))
                _delete_with_references(model, objs)
                return len(objs), 0
        except (ProtectedError, RestrictedError):
            pass
        for pk in ids:
            try:
                with transaction.atomic():
                    objs = list(model._default_manager.select_for_update().filter(pk=pk))
                    _delete_with_references(model, objs)
                removed += len(objs)
            except (ProtectedError, RestrictedError):
                kept += 1
    return removed, kept


def _delete_with_references(model, objs) -> list[str]:
    if not objs:
        return []
    collector = Collector(using=router.db_for_write(model))
    collector.collect(objs)
    files = _remove_generic(collector)
    collector.delete()
    if files:
        transaction.on_commit(lambda: _delete_files(files))
    return files


def _remove_generic(collector) -> list[str]:
    """Delete the rows that point at the collected ones through a generic reference;
    returns the attachments' file names (deleted from storage after commit)."""
    files = []
    references = generic_references()
    for collected_model, instances in list(collector.data.items()):
        if collected_model in {m for m, _, _ in references}:
            continue
        ct = ContentType.objects.get_for_model(collected_model)
        pks = [obj.pk for obj in instances]
        for ref_model, ct_field, id_field in references:
            rows = ref_model._base_manager.filter(
                **{f"{ct_field}_id": ct.pk, f"{id_field}__in": pks}
            )
            if ref_model is Attachment:
                files += [name for name in rows.values_list("file", flat=True) if name]
            rows.delete()
    return files


def _delete_files(names):
    from django.core.files.storage import default_storage

    for name in names:
        with contextlib.suppress(OSError):
            default_storage.delete(name)
