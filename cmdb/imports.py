"""Batch import and reconciliation of CIs and relationships.

Each row is matched to an existing CI by the identification rules of its class
(serial number, host name and domain, cloud id…); a match is updated, anything else is
created. Importing the same data twice creates nothing new. A data source writes only
the fields it is trusted for on CIs that already exist. Rows with errors are reported
row by row and skipped; the others are applied.

Work is done in batches, each in its own transaction with the batch's identification
keys locked (PostgreSQL advisory locks, in sorted order), so two imports of the same
data at once still make one CI per real thing."""

import csv
import io
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from itsm.accounts.models import Location, Team
from itsm.core.i18n import said
from itsm.core.models import JournalEntry
from itsm.core.services import display_value

from .attributes import (
    ClassSchema,
    Schemas,
    clean_attributes,
    clean_changed,
    descendant_ids,
    identification_keys,
)
from .models import (
    CIKey,
    ConfigurationItem,
    DataSource,
    Environment,
    ImportRun,
    Relationship,
    RelationshipType,
    Status,
)
from .services import NAME_LENGTH, attribute_change_key, key_length_errors, lock_keys

BATCH_SIZE = 1000
#: CI fields a row may carry besides ``class`` and ``attributes``.
ROW_FIELDS = (
    "name",
    "status",
    "environment",
    "description",
    "owner_team",
    "support_team",
    "location",
)
REFERENCE_FIELDS = {"owner_team", "support_team", "location"}
CSV_RELATIONSHIP_PREFIX = "rel."
CSV_ATTRIBUTE_PREFIX = "attr."
MAX_ROWS = 200_000


class _Rollback(Exception):
    """Raised to undo a preview's writes."""


# Parsing -------------------------------------------------------------------------------


def parse_reference(text: str) -> dict:
    """``server:hostname=db01;domain=corp`` or ``application:ERP`` (class, then a name or
    identifying values) as a reference object."""
    ci_class, sep, rest = text.strip().partition(":")
    if not sep or not ci_class.strip() or not rest.strip():
        raise ValueError(
            gettext(
                "A reference is class:name or class:attribute=value;attribute=value (got %(text)s)."
            )
            % {"text": repr(text.strip())}
        )
    reference = {"class": ci_class.strip()}
    if "=" not in rest:
        reference["name"] = rest.strip()
        return reference
    for part in rest.split(";"):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise ValueError(
                gettext("%(part)s is not attribute=value.") % {"part": repr(part.strip())}
            )
        reference[key.strip()] = value.strip()
    return reference


def parse_csv(text: str) -> tuple[list[dict], list[dict]]:
    """CI rows and relationship rows from a CSV file.

    Columns: ``class`` and ``name`` (required), ``status``, ``environment``,
    ``description``, ``owner_team``, ``support_team``, ``location`` (names); every other
    column is an attribute (``attr.`` in front is optional); a ``rel.<type>`` column
    relates the row's CI to the CIs it names (references separated by ``|``)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise ValidationError(
            {"file": gettext("Not a CSV file: %(error)s") % {"error": exc}}
        ) from None
    header = [h.strip() for h in header if h is not None]
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise ValidationError(
            {
                "file": gettext("Columns named twice: %(columns)s.")
                % {"columns": ", ".join(repeated)}
            }
        )
    missing = [c for c in ("class", "name") if c not in header]
    if missing:
        raise ValidationError(
            {
                "file": gettext("The first line must name the columns; missing: %(columns)s.")
                % {"columns": ", ".join(missing)}
            }
        )
    rows, relationships = [], []
    try:
        for raw in reader:
            # The line the row ends on (a quoted value may span lines; blank lines count).
            line = reader.line_num
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    {"file": gettext("At most %(count)d rows per file.") % {"count": MAX_ROWS}}
                )
            if None in raw:
                raise ValidationError(
                    {
                        "file": gettext("Line %(line)s has more cells than the header.")
                        % {"line": line}
                    }
                )
            values = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
            if not any(values.values()):
                continue
            row = {"row": line, "class": values.pop("class", ""), "attributes": {}}
            for key, value in values.items():
                if value == "":
                    continue
                if key in ROW_FIELDS:
                    row[key] = value
                elif key.startswith(CSV_RELATIONSHIP_PREFIX):
                    relationships.append(
                        {
                            "row": line,
                            "source": {"row": line},
                            "type": key[len(CSV_RELATIONSHIP_PREFIX) :],
                            "target": [part for part in value.split("|") if part.strip()],
                        }
                    )
                else:
                    attribute = key.removeprefix(CSV_ATTRIBUTE_PREFIX)
                    row["attributes"][attribute] = value
            rows.append(row)
    except csv.Error as exc:
        raise ValidationError(
            {"file": gettext("Not a CSV file: %(error)s") % {"error": exc}}
        ) from None
    return rows, relationships


# The run -------------------------------------------------------------------------------


@dataclass
class _Context:
    source: DataSource
    actor: object
    schemas: Schemas
    teams: dict
    locations: dict
    types: dict
    run: ImportRun
    #: row number -> CI id (so a CSV's relationship columns find the row's CI)
    row_ci: dict = field(default_factory=dict)
    apply: bool = True
    now: object = None

    def result(self, entry: dict) -> None:
        if entry["action"] == "error" or len(self.run.results) < ImportRun.RESULT_ROWS:
            self.run.results.append(entry)


def preview(source: DataSource, rows, relationships, actor) -> ImportRun:
    """What an import would do, row by row; nothing is written but the run itself."""
    return _execute(source, rows, relationships, actor, apply=False)


def run(source: DataSource, rows, relationships, actor, dry_run: bool = False) -> ImportRun:
    return _execute(source, rows, relationships, actor, apply=not dry_run)


def apply(run: ImportRun, actor) -> ImportRun:
    """Apply a previewed run with the rows it was given, once: the run is claimed first
    (a double submit finds it no longer a preview)."""
    with transaction.atomic():
        claimed = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.PREVIEW).update(
            status=ImportRun.Status.APPLIED
        )
    if not claimed:
        raise ValidationError({"run": _("Only a preview can be applied, once.")})
    run.refresh_from_db()
    payload = run.payload or {}
    return _execute(
        run.data_source,
        payload.get("items", []),
        payload.get("relationships", []),
        actor,
        apply=True,
        run=run,
    )


def _execute(source, rows, relationships, actor, apply: bool, run=None) -> ImportRun:
    rows = list(rows)
    relationships = list(relationships or [])
    run = run or ImportRun(data_source=source, started_by=actor)
    run.payload = {"items": rows, "relationships": relationships} if not apply else {}
    run.results = []
    run.created = run.updated = run.unchanged = run.failed = run.relationships_created = 0
    run.started_at = timezone.now()
    context = _Context(
        source=source,
        actor=actor,
        schemas=Schemas(),
        teams=dict(Team.objects.values_list("name", "pk")),
        locations=dict(Location.objects.values_list("name", "pk")),
        types={t.key: t for t in RelationshipType.objects.all()},
        run=run,
        apply=apply,
    )
    if apply:
        # Each batch commits on its own: its key locks are held for one batch only, and
        # an interrupted import is finished by running it again (nothing is doubled).
        _batches(context, rows, relationships)
    else:
        try:
            with transaction.atomic():
                _batches(context, rows, relationships)
                raise _Rollback
        except _Rollback:
            pass
    run.status = ImportRun.Status.APPLIED if apply else ImportRun.Status.PREVIEW
    run.finished_at = timezone.now()
    run.save()
    return run


def _batches(context: _Context, rows: list, relationships: list) -> None:
    for start in range(0, len(rows), BATCH_SIZE):
        _import_batch(context, rows[start : start + BATCH_SIZE], start)
    for start in range(0, len(relationships), BATCH_SIZE):
        with transaction.atomic():
            _relate_batch(context, relationships[start : start + BATCH_SIZE], start)


# CIs -----------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    schema: ClassSchema | None = None
    name: str = ""
    fields: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)
    keys: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)


def _prepare(context: _Context, raw, number: int) -> _Row:
    row = _Row(number=number)
    if not isinstance(raw, dict):
        row.errors[""] = gettext("Each item is an object.")
        return row
    key = str(raw.get("class") or "").strip()
    if not key:
        row.errors["class"] = gettext("Name the CI class.")
    elif key not in context.schemas.by_key:
        row.errors["class"] = gettext("There is no CI class %(key)s.") % {"key": key}
    else:
        row.schema = context.schemas.get(key)
    row.name = str(raw.get("name") or "").strip()
    if not row.name:
        row.errors["name"] = gettext("A CI needs a name.")
    elif len(row.name) > NAME_LENGTH:
        row.errors["name"] = gettext("At most %(count)d characters.") % {"count": NAME_LENGTH}
    for name in ROW_FIELDS[1:]:
        value = raw.get(name)
        if value in (None, ""):
            continue
        value = str(value).strip()
        if name == "status" and value not in Status.values:
            row.errors[name] = gettext("One of: %(values)s.") % {"values": ", ".join(Status.values)}
        elif name == "environment" and value not in Environment.values:
            row.errors[name] = gettext("One of: %(values)s.") % {
                "values": ", ".join(Environment.values)
            }
        elif name in ("owner_team", "support_team"):
            if value not in context.teams:
                row.errors[name] = gettext("There is no team %(name)s.") % {"name": value}
            else:
                row.fields[name] = context.teams[value]
            continue
        elif name == "location":
            if value not in context.locations:
                row.errors[name] = gettext("There is no location %(name)s.") % {"name": value}
            else:
                row.fields[name] = context.locations[value]
            continue
        row.fields[name] = value
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict):
        row.errors["attributes"] = gettext("An object of attribute values expected.")
    elif row.schema is not None:
        row.attributes = attributes
        cleaned, errors = clean_attributes(row.schema, attributes)
        # Required attributes are checked when the row creates a CI (a source may send
        # only what it knows about CIs that exist).
        errors = {
            k: v
            for k, v in errors.items()
            if not (k not in attributes and row.schema.definitions.get(k))
        }
        row.errors.update(_attribute_errors(errors))
        row.attributes = cleaned
        row.keys = identification_keys(row.schema, row.name, cleaned)
        row.errors.update(key_length_errors(row.schema, row.keys))
        if not row.keys and not row.errors:
            rules = [" + ".join(rule) for _, rule in row.schema.rules]
            row.errors["identification"] = gettext(
                "Nothing identifies this %(class)s: give %(rules)s."
            ) % {
                "class": row.schema.ci_class.name.lower(),
                "rules": gettext(" or ").join(rules)
                if rules
                else gettext("a class with identification rules"),
            }
    return row


def _existing_keys(keys) -> dict:
    values = sorted({value for _, _, value in keys})
    found = {}
    for start in range(0, len(values), 5000):
        for scope, rule, value, ci_id in CIKey.objects.filter(
            value__in=values[start : start + 5000]
        ).values_list("scope_id", "rule", "value", "ci_id"):
            found[(scope, rule, value)] = ci_id
    return found


FIELD_ATTNAMES = {
    "owner_team": "owner_team_id",
    "support_team": "support_team_id",
    "location": "location_id",
}


def _row_number(raw, position: int) -> int:
    """The row number a result reports: the item's own ``row`` (a CSV line) when it is a
    whole number, else its position."""
    number = raw.get("row") if isinstance(raw, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else position


def _import_batch(context: _Context, raws: list, offset: int) -> None:
    prepared = [
        _prepare(context, raw, _row_number(raw, offset + index + 1))
        for index, raw in enumerate(raws)
    ]
    results_before, counts = len(context.run.results), _counts(context.run)
    for attempt in range(2):
        try:
            with transaction.atomic():
                _reconcile(context, prepared)
            return
        except IntegrityError:
            # A writer outside the import's locks took a key at the same moment: read
            # again and match against what it made.
            del context.run.results[results_before:]
            _restore_counts(context.run, counts)
            if attempt:
                break
        except DatabaseError as error:
            del context.run.results[results_before:]
            _restore_counts(context.run, counts)
            _fail_batch(
                context,
                prepared,
                (gettext("Not saved: %(error)s") % {"error": error}).strip()[:300],
            )
            return
    _fail_batch(
        context,
        prepared,
        gettext("Not saved: another import changed these CIs at the same time."),
    )


def _counts(run: ImportRun) -> tuple:
    return (run.created, run.updated, run.unchanged, run.failed)


def _restore_counts(run: ImportRun, counts: tuple) -> None:
    run.created, run.updated, run.unchanged, run.failed = counts


def _fail_batch(context: _Context, prepared: list, message: str) -> None:
    """Every row of a batch the database refused is reported; nothing of it is kept, and
    the import goes on with the next batch."""
    for row in prepared:
        row.errors.setdefault("", message)
        context.run.failed += 1
        context.result(_error(row))


def _reconcile(context: _Context, prepared: list[_Row]) -> None:
    run = context.run
    all_keys = [k for row in prepared if not row.errors for k in row.keys]
    if context.apply:  # a preview is rolled back: it need not wait for anyone
        lock_keys(all_keys)
    existing_keys = _existing_keys(all_keys)
    cis = ConfigurationItem.objects.in_bulk(set(existing_keys.values()))
    #: who holds each key known in this batch (existing CIs and those made here)
    owner: dict[tuple, ConfigurationItem] = {k: cis[pk] for k, pk in existing_keys.items()}
    #: the keys each CI touched here ends with (replaces all its keys on save)
    final_keys: dict[int, tuple[ConfigurationItem, list]] = {}
    new: list[ConfigurationItem] = []
    changed: dict[int, ConfigurationItem] = {}
    results = []
    for row in prepared:
        if row.errors:
            results.append(_error(row))
            continue
        matches = {id(owner[k]): owner[k] for k in row.keys if k in owner}
        if len(matches) > 1:
            names = sorted(c.name for c in matches.values())
            row.errors["identification"] = gettext("Matches more than one CI: %(names)s.") % {
                "names": ", ".join(names)
            }
            results.append(_error(row))
            continue
        ci = next(iter(matches.values()), None)
        if ci is None:
            cleaned, errors = clean_attributes(row.schema, row.attributes)
            if errors:
                row.errors.update(_attribute_errors(errors))
                results.append(_error(row))
                continue
            ci = ConfigurationItem(
                name=row.name,
                ci_class=row.schema.ci_class,
                attributes=cleaned,
                created_at=context.now or timezone.now(),
                updated_at=timezone.now(),
                **{FIELD_ATTNAMES.get(k, k): v for k, v in row.fields.items()},
            )
            new.append(ci)
            _claim(owner, final_keys, ci, row.keys)
            results.append(
                {
                    "row": row.number,
                    "kind": "ci",
                    "action": "create",
                    "ci": None,
                    "name": row.name,
                    "_ci": ci,
                    "changes": {},
                    "errors": {},
                }
            )
            continue
        before = _state(ci)
        outcome = _update(context, ci, row)
        if isinstance(outcome, dict):
            _restore(ci, before)
            row.errors.update(outcome["errors"])
            results.append(_error(row))
            continue
        diff, ignored, keys = outcome
        if diff:
            taken = _taken(owner, ci, keys)
            if taken:
                _restore(ci, before)
                row.errors.update(taken)
                results.append(_error(row))
                continue
            _claim(owner, final_keys, ci, keys)
            if ci.pk is not None:
                changed[ci.pk] = ci
        results.append(
            {
                "row": row.number,
                "kind": "ci",
                "action": "update" if diff else "unchanged",
                "ci": ci.pk,
                "name": ci.name,
                "_ci": ci,
                "changes": diff,
                "ignored": ignored,
                "errors": {},
            }
        )
    ConfigurationItem.objects.bulk_create(new)
    if changed:
        for ci in changed.values():
            ci.version += 1
            ci.updated_at = timezone.now()
        ConfigurationItem.objects.bulk_update(
            list(changed.values()),
            [
                "name",
                "status",
                "environment",
                "description",
                "owner_team",
                "support_team",
                "location",
                "attributes",
                "version",
                "updated_at",
            ],
        )
    if changed:
        CIKey.objects.filter(ci_id__in=list(changed)).delete()
    CIKey.objects.bulk_create(
        [
            CIKey(ci_id=ci.pk, scope_id=scope, rule=rule, value=value)
            for ci, keys in final_keys.values()
            for scope, rule, value in keys
        ]
    )
    ct = ContentType.objects.get_for_model(ConfigurationItem)
    now = timezone.now()
    journal = []
    for entry in results:
        ci = entry.pop("_ci", None)
        if ci is not None:
            # A preview's new CIs are rolled back: their ids must not be shown as links.
            entry["ci"] = ci.pk if context.apply or entry["action"] != "create" else None
            context.row_ci[entry["row"]] = ci.pk
        action = entry["action"]
        if action == "error":
            run.failed += 1
        elif action == "create":
            run.created += 1
            journal.append(_journal(ct, ci, context, JournalEntry.Kind.CREATED, now, _snapshot(ci)))
        elif action == "update":
            run.updated += 1
            if ci not in new:  # a second row for a CI this batch creates: one creation
                journal.append(
                    _journal(ct, ci, context, JournalEntry.Kind.FIELDS, now, entry["changes"])
                )
        else:
            run.unchanged += 1
        context.result(entry)
    JournalEntry.objects.bulk_create(journal)


def _claim(owner: dict, final_keys: dict, ci: ConfigurationItem, keys: list) -> None:
    """``ci`` now holds exactly ``keys``: what it held before in this batch is free."""
    for key in [k for k, holder in owner.items() if holder is ci and k not in keys]:
        del owner[key]
    for key in keys:
        owner[key] = ci
    final_keys[id(ci)] = (ci, list(keys))


def _taken(owner: dict, ci: ConfigurationItem, keys: list) -> dict:
    """Errors for keys another CI holds, here or in the database (one query, only for
    keys this batch has not seen)."""
    unknown = [k for k in keys if k not in owner]
    if unknown:
        held = {key: pk for key, pk in _existing_keys(unknown).items() if pk != ci.pk}
        names = dict(
            ConfigurationItem.objects.filter(pk__in=held.values()).values_list("pk", "name")
        )
        for key, pk in held.items():
            owner[key] = ConfigurationItem(pk=pk, name=names.get(pk, f"#{pk}"))
    errors = {}
    for scope, rule, value in keys:
        holder = owner.get((scope, rule, value))
        if holder is not None and holder is not ci and (ci.pk is None or holder.pk != ci.pk):
            for field in rule.split("+"):
                name = field if field == "name" else attribute_change_key(field)
                errors[name] = gettext("%(name)s already has this value.") % {"name": holder.name}
    return errors


def _state(ci: ConfigurationItem) -> dict:
    fields = ["name", "attributes", *FIELD_ATTNAMES.values(), "status", "environment"]
    return {name: getattr(ci, name) for name in [*fields, "description"]}


def _restore(ci: ConfigurationItem, state: dict) -> None:
    for name, value in state.items():
        setattr(ci, name, value)


def _snapshot(ci: ConfigurationItem) -> dict:
    data = {
        "name": ci.name,
        "class": ci.ci_class.name,
        "status": ci.get_status_display(),
        "environment": ci.get_environment_display(),
    }
    data.update({attribute_change_key(k): v for k, v in sorted(ci.attributes.items())})
    return data


def _journal(ct, ci, context, kind, now, data) -> JournalEntry:
    worded = said(gettext_noop("Imported from %(source)s."), source=context.source.name)
    return JournalEntry(
        content_type=ct,
        object_id=ci.pk,
        kind=kind,
        actor=context.actor,
        internal=True,
        created_at=now,
        body=worded.in_english(),
        data={**data, "said": worded.as_data()},
    )


def _attribute_errors(errors: dict) -> dict:
    return {attribute_change_key(k) if k else "attributes": v for k, v in errors.items()}


def _error(row: _Row) -> dict:
    return {
        "row": row.number,
        "kind": "ci",
        "action": "error",
        "ci": None,
        "name": row.name,
        "changes": {},
        "errors": row.errors,
    }


def _update(context: _Context, ci: ConfigurationItem, row: _Row):
    """Apply the row's trusted values to ``ci`` in memory: (diff, ignored, keys), or a
    dict of errors."""
    source = context.source
    diff, ignored = {}, []
    for name, value in row.fields.items():
        if not source.trusts(name):
            ignored.append(name)
            continue
        attname = FIELD_ATTNAMES.get(name, name)
        if getattr(ci, attname) == value:
            continue
        old = display_value(ci, name)
        setattr(ci, attname, value)
        diff[name] = [old, display_value(ci, name)]
    if row.name != ci.name:
        if source.trusts("name"):
            diff["name"] = [ci.name, row.name]
            ci.name = row.name
        else:
            ignored.append("name")
    changes = {}
    for key, value in row.attributes.items():
        if source.trusts(key):
            changes[key] = value
        elif ci.attributes.get(key) != value:
            ignored.append(f"attributes.{key}")
    schema = context.schemas.get(ci.ci_class_id)
    cleaned, errors = clean_changed(schema, ci.attributes, changes)
    if errors:
        return {"errors": _attribute_errors(errors)}
    if row.schema is not None and row.schema.ci_class.pk != ci.ci_class_id:
        ignored.append("class")
    for key in sorted(set(ci.attributes) | set(cleaned)):
        if ci.attributes.get(key) != cleaned.get(key):
            diff[attribute_change_key(key)] = [ci.attributes.get(key), cleaned.get(key)]
    ci.attributes = cleaned
    keys = identification_keys(schema, ci.name, cleaned)
    return diff, sorted(ignored), keys


# Relationships -------------------------------------------------------------------------


def _reference_keys(context: _Context, reference) -> tuple[list, str | None, str | None]:
    """(keys, name, class error) of a reference object."""
    if not isinstance(reference, dict):
        return [], None, gettext("A reference is an object with a class and identifying values.")
    key = str(reference.get("class") or "")
    if key not in context.schemas.by_key:
        return (
            [],
            None,
            gettext("There is no CI class %(key)s.") % {"key": key or gettext("(none)")},
        )
    schema = context.schemas.get(key)
    values = {k: v for k, v in reference.items() if k not in ("class", "name")}
    cleaned, _errors = clean_attributes(
        schema, {k: v for k, v in values.items() if k in schema.definitions}
    )
    name = str(reference.get("name") or "")
    keys = identification_keys(schema, name, cleaned)
    return keys, name, None


def _relate_batch(context: _Context, raws: list, offset: int) -> None:
    run = context.run
    items = []  # (row number, type, source ref, target ref)
    for index, raw in enumerate(raws):
        number = _row_number(raw, offset + index + 1)
        if not isinstance(raw, dict):
            items.append(
                (number, None, None, None, {"": gettext("Each relationship is an object.")})
            )
            continue
        targets = raw.get("target")
        targets = targets if isinstance(targets, list) else [targets]
        source = raw.get("source")
        source_error = None
        if isinstance(source, str):
            try:
                source = parse_reference(source)
            except ValueError as exc:
                source_error = str(exc)
        for target in targets:
            errors = {"source": source_error} if source_error else {}
            if isinstance(target, str):
                try:
                    target = parse_reference(target)
                except ValueError as exc:
                    errors["target"] = str(exc)
            rel_type = context.types.get(str(raw.get("type") or ""))
            if rel_type is None:
                errors["type"] = gettext("There is no relationship type %(key)s.") % {
                    "key": raw.get("type") or gettext("(none)")
                }
            elif (
                context.source.trusted_relationship_types
                and rel_type.key not in context.source.trusted_relationship_types
            ):
                errors["type"] = gettext("%(source)s is not trusted for %(type)s.") % {
                    "source": context.source.name,
                    "type": rel_type.key,
                }
            items.append((number, rel_type, source, target, errors))
    references = {}
    lookups = []
    by_name: dict[tuple, list | None] = {}
    for _number, _type, source, target, errors in items:
        for end, reference in (("source", source), ("target", target)):
            if isinstance(reference, dict) and set(reference) == {"row"}:
                continue
            keys, name, problem = _reference_keys(context, reference)
            if problem:
                errors.setdefault(end, problem)
            references[id(reference)] = keys
            lookups.extend(keys)
            if not keys and name and not problem:
                by_name.setdefault((reference["class"], name), None)
    found = _existing_keys(lookups)
    # A class that nothing identifies by name is still referred to by name: the one CI of
    # that class (or below) with exactly that name.
    for class_key, name in list(by_name):
        ids = list(
            ConfigurationItem.objects.filter(
                ci_class_id__in=descendant_ids(context.schemas.by_key[class_key]), name=name
            ).values_list("pk", flat=True)[:2]
        )
        by_name[(class_key, name)] = ids
    wanted = []
    for number, rel_type, source, target, errors in items:
        ends = {}
        for end, reference in (("source", source), ("target", target)):
            if end in errors:
                continue
            if isinstance(reference, dict) and set(reference) == {"row"}:
                row = reference["row"]
                ci_id = context.row_ci.get(row) if isinstance(row, int) else None
                if ci_id is None:
                    errors[end] = gettext("The CI of this row was not imported.")
                ends[end] = ci_id
                continue
            ids = {found[k] for k in references.get(id(reference), []) if k in found}
            if not references.get(id(reference)) and isinstance(reference, dict):
                ids = set(by_name.get((reference.get("class"), reference.get("name"))) or [])
            if not ids:
                errors[end] = gettext("No CI matches %(reference)s.") % {
                    "reference": _describe(reference)
                }
            elif len(ids) > 1:
                errors[end] = gettext("More than one CI matches %(reference)s.") % {
                    "reference": _describe(reference)
                }
            else:
                ends[end] = ids.pop()
        if not errors and ends["source"] == ends["target"]:
            errors["target"] = gettext("A CI cannot be related to itself.")
        if errors:
            run.failed += 1
            context.result(
                {
                    "row": number,
                    "kind": "relationship",
                    "action": "error",
                    "ci": None,
                    "name": _describe(target),
                    "changes": {},
                    "errors": errors,
                }
            )
            continue
        wanted.append((number, ends["source"], rel_type, ends["target"], target))
    if not wanted:
        return
    existing = set(
        Relationship.objects.filter(
            source_id__in={w[1] for w in wanted}, target_id__in={w[3] for w in wanted}
        ).values_list("source_id", "type_id", "target_id")
    )
    to_create = {}
    for number, source_id, rel_type, target_id, target in wanted:
        triple = (source_id, rel_type.pk, target_id)
        action = "unchanged" if triple in existing or triple in to_create else "create"
        if action == "create":
            to_create[triple] = Relationship(
                source_id=source_id,
                type=rel_type,
                target_id=target_id,
                data_source=context.source,
                created_by=context.actor,
            )
            run.relationships_created += 1
        context.result(
            {
                "row": number,
                "kind": "relationship",
                "action": action,
                "ci": source_id,
                "name": f"{rel_type.name} {_describe(target)}",
                "changes": {},
                "errors": {},
            }
        )
    with transaction.atomic():
        Relationship.objects.bulk_create(list(to_create.values()), ignore_conflicts=True)
    names = dict(
        ConfigurationItem.objects.filter(
            pk__in={t[0] for t in to_create} | {t[2] for t in to_create}
        ).values_list("pk", "name")
    )
    ct = ContentType.objects.get_for_model(ConfigurationItem)
    now = timezone.now()
    journal = []
    for (source_id, _type_id, target_id), relationship in to_create.items():
        rel_type = relationship.type
        for ci_id, label in (
            (source_id, f"{rel_type.name} {names.get(target_id)}"),
            (target_id, f"{rel_type.reverse_name} {names.get(source_id)}"),
        ):
            worded = said(
                gettext_noop("Related: %(relationship)s (imported from %(source)s)"),
                relationship=label,
                source=context.source.name,
            )
            journal.append(
                JournalEntry(
                    content_type=ct,
                    object_id=ci_id,
                    kind=JournalEntry.Kind.LINK,
                    actor=context.actor,
                    internal=True,
                    created_at=now,
                    body=worded.in_english(),
                    data={
                        "said": worded.as_data(),
                        "relationship": [None, label],
                        "type": rel_type.key,
                    },
                )
            )
    JournalEntry.objects.bulk_create(journal)


def _describe(reference) -> str:
    if not isinstance(reference, dict):
        return str(reference)
    parts = [f"{k}={v}" for k, v in reference.items() if k not in ("class", "row")]
    return f"{reference.get('class', '?')}:{';'.join(parts)}"


__all__ = ["apply", "parse_csv", "parse_reference", "preview", "run"]
