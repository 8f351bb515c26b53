"""Every write to the CMDB: CIs, their attributes and relationships. Each change is
checked against the CI's class, keeps the identification keys in step, and is written
to the CI's history (the kernel's journal) with who, when, and the old and new value."""

import hashlib

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _

from itsm.core import writes
from itsm.core.i18n import said
from itsm.core.models import JournalEntry
from itsm.core.services import display_value

from .attributes import (
    ClassSchema,
    Schemas,
    clean_attributes,
    clean_changed,
    identification_keys,
    rule_label,
)
from .models import CIKey, ConfigurationItem, Relationship

#: The longest identification value the key index holds, and the longest CI name.
MAX_KEY = 500
NAME_LENGTH = 200

#: CI fields set directly (besides ``attributes``).
FIELDS = (
    "name",
    "ci_class",
    "status",
    "environment",
    "description",
    "owner_team",
    "support_team",
    "location",
)


def attribute_change_key(key: str) -> str:
    """How an attribute appears in the history (``attributes.serial_number``)."""
    return f"attributes.{key}"


#: Advisory locks of the CMDB: (namespace, bucket). Keys share buckets so a batch of any
#: size takes a bounded number of locks (PostgreSQL's lock table is small).
LOCK_NAMESPACE = 0x434D4442
LOCK_BUCKETS = 512


def lock_keys(keys) -> None:
    """Serialise work on the same identification keys across transactions (PostgreSQL
    advisory locks on the keys' buckets, taken in one sorted pass so two writers cannot
    deadlock; held until commit). Other databases serialise writers anyway."""
    if connection.vendor != "postgresql" or not keys:
        return
    buckets = sorted({hash_key(k) % LOCK_BUCKETS for k in keys})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, b) FROM unnest(%s::int[]) AS b ORDER BY b",
            [LOCK_NAMESPACE, buckets],
        )


def hash_key(key: tuple) -> int:
    """A stable number for a (scope, rule, value) key."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def key_conflicts(schema: ClassSchema, keys, exclude_pk=None) -> dict:
    """Errors for keys another CI already holds, by field."""
    if not keys:
        return {}
    from django.db.models import Q

    query = Q()
    for scope, rule, value in keys:
        query |= Q(scope_id=scope, rule=rule, value=value)
    taken = CIKey.objects.filter(query).select_related("ci")
    if exclude_pk is not None:
        taken = taken.exclude(ci_id=exclude_pk)
    errors: dict = {}
    for key in taken:
        fields = key.rule.split("+")
        message = gettext("%(name)s (#%(id)s) already has this %(rule)s.") % {
            "name": key.ci.name,
            "id": key.ci_id,
            "rule": rule_label(schema, key.rule),
        }
        for field in fields:
            if field == "name":
                errors["name"] = message
            else:
                errors[attribute_change_key(field)] = message
    return errors


def sync_keys(ci: ConfigurationItem, keys) -> None:
    wanted = set(keys)
    have = {(k.scope_id, k.rule, k.value): k.pk for k in CIKey.objects.filter(ci=ci)}
    stale = [pk for key, pk in have.items() if key not in wanted]
    if stale:
        CIKey.objects.filter(pk__in=stale).delete()
    CIKey.objects.bulk_create(
        [CIKey(ci=ci, scope_id=s, rule=r, value=v) for (s, r, v) in wanted - set(have)]
    )


def key_length_errors(schema: ClassSchema, keys) -> dict:
    """Identification values too long to index, by field."""
    errors = {}
    for _scope, rule, value in keys:
        if len(value) > MAX_KEY:
            for field in rule.split("+"):
                name = field if field == "name" else attribute_change_key(field)
                errors[name] = gettext(
                    "Too long to identify the CI by (at most %(count)d characters)."
                ) % {"count": MAX_KEY}
    return errors


def _check(
    schema: ClassSchema,
    ci: ConfigurationItem,
    attributes: dict,
    changes: dict | None = None,
) -> tuple[dict, list]:
    """Check the CI's attributes (all of them, or with ``changes`` only those changed)."""
    errors: dict = {}
    if changes is None:
        cleaned, attribute_errors = clean_attributes(schema, attributes)
    else:
        cleaned, attribute_errors = clean_changed(schema, attributes, changes)
    for key, message in attribute_errors.items():
        errors[attribute_change_key(key) if key else "attributes"] = message
    if not (ci.name or "").strip():
        errors["name"] = gettext("A CI needs a name.")
    elif len(ci.name) > NAME_LENGTH:
        errors["name"] = gettext("At most %(count)d characters.") % {"count": NAME_LENGTH}
    keys = identification_keys(schema, ci.name or "", cleaned)
    if not errors:
        errors.update(key_length_errors(schema, keys))
    if not errors:
        errors.update(key_conflicts(schema, keys, exclude_pk=ci.pk))
    if errors:
        raise ValidationError(errors)
    return cleaned, keys


def attribute_diff(old: dict, new: dict) -> dict:
    return {
        attribute_change_key(key): [old.get(key), new.get(key)]
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }


def _clean(data: dict, actor) -> dict:
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
    return data


def _derive(ci: ConfigurationItem, actor, change: writes.Write) -> None:
    """Attributes checked against the class chain and stored as their types; the
    identification keys computed and their advisory locks taken."""
    options = change.options
    schema = (options.get("schemas") or Schemas()).get(ci.ci_class_id)
    if change.created:
        cleaned, keys = _check(schema, ci, ci.attributes or {})
    elif options.get("replace_attributes"):
        cleaned, keys = _check(schema, ci, dict(options.get("attributes") or {}))
    else:
        old = dict(change.before.attributes)
        cleaned, keys = _check(schema, ci, old, options.get("attributes") or {})
    ci.attributes = cleaned
    options["schema"], options["keys"] = schema, keys
    if change.created or cleaned != change.before.attributes or ci.name != change.before.name:
        lock_keys(keys)


def _validate_fields(ci: ConfigurationItem, changed=None) -> None:
    try:
        ci.full_clean(exclude=["attributes", "ci_class"], validate_unique=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


def _saved(ci: ConfigurationItem, actor, change: writes.Write) -> None:
    if not change.created and not change.diff:
        return
    keys = change.options["keys"]
    try:
        with transaction.atomic():
            sync_keys(ci, keys)
    except IntegrityError:
        # Another transaction took a key between our check and our insert.
        raise ValidationError(
            key_conflicts(change.options["schema"], keys, exclude_pk=ci.pk)
        ) from None


def _snapshot(ci: ConfigurationItem) -> dict:
    data = {name: display_value(ci, name) for name in FIELDS if name != "description"}
    data.update({attribute_change_key(k): v for k, v in sorted(ci.attributes.items())})
    return data


SPEC = writes.WriteSpec(
    model=ConfigurationItem,
    create=writes.Access(staff=(*FIELDS, "attributes")),
    update=writes.Access(staff=FIELDS),
    expand={"attributes": lambda old, new: attribute_diff(old or {}, new or {})},
    refused=_("This field cannot be changed here."),
    clean=_clean,
    derive=_derive,
    validate=_validate_fields,
    created_data=_snapshot,
    created_internal=True,
    saved=_saved,
)


def create_ci(actor, *, ci_class, name, attributes=None, schemas=None, **fields):
    """A new CI; ValidationError naming the field (``attributes.<key>`` for attributes)."""
    schema = (schemas or Schemas()).get(ci_class)
    data = {"name": name, "ci_class": schema.ci_class, "attributes": attributes or {}, **fields}
    return writes.open(SPEC, actor, data, schemas=schemas)


def update_ci(
    ci: ConfigurationItem,
    actor,
    changes: dict,
    expected_version: int | None = None,
    replace_attributes: bool = False,
    schemas=None,
) -> ConfigurationItem:
    """Change fields and attributes. ``changes["attributes"]`` is merged into the CI's
    attributes (a ``None`` value removes one) unless ``replace_attributes``."""
    changes = dict(changes)
    attributes = changes.pop("attributes", None)
    return writes.change(
        SPEC,
        ci,
        actor,
        changes,
        expected_version,
        attributes=attributes,
        replace_attributes=replace_attributes,
        schemas=schemas,
    )


def _relationship_label(relationship: Relationship, from_source: bool) -> str:
    if from_source:
        return f"{relationship.type.name} {relationship.target.name}"
    return f"{relationship.type.reverse_name} {relationship.source.name}"


def _journal_relationship(relationship: Relationship, actor, added: bool) -> None:
    now = timezone.now()
    ct = ContentType.objects.get_for_model(ConfigurationItem)
    entries = []
    for ci, from_source in ((relationship.source, True), (relationship.target, False)):
        label = _relationship_label(relationship, from_source)
        if added:
            body = said(gettext_noop("Related: %(relationship)s"), relationship=label)
        else:
            body = said(gettext_noop("Relationship removed: %(relationship)s"), relationship=label)
        entries.append(
            JournalEntry(
                content_type=ct,
                object_id=ci.pk,
                kind=JournalEntry.Kind.LINK,
                actor=actor,
                internal=True,
                created_at=now,
                body=body.in_english(),
                data={
                    "said": body.as_data(),
                    "relationship": [None, label] if added else [label, None],
                    "type": relationship.type.key,
                },
            )
        )
    JournalEntry.objects.bulk_create(entries)


@transaction.atomic
def relate(actor, source: ConfigurationItem, type, target: ConfigurationItem, data_source=None):
    """A relationship between two CIs, in the history of both."""
    if source.pk == target.pk:
        raise ValidationError({"target": _("A CI cannot be related to itself.")})
    relationship = Relationship(
        source=source, type=type, target=target, data_source=data_source, created_by=actor
    )
    try:
        with transaction.atomic():
            relationship.save()
    except IntegrityError:
        raise ValidationError(
            {
                "target": gettext("%(source)s already %(type)s %(target)s.")
                % {"source": source.name, "type": type.name, "target": target.name}
            }
        ) from None
    _journal_relationship(relationship, actor, added=True)
    return relationship


@transaction.atomic
def unrelate(actor, relationship: Relationship) -> None:
    _journal_relationship(relationship, actor, added=False)
    relationship.delete()


def history(ci: ConfigurationItem):
    """The CI's history, newest first."""
    return (
        JournalEntry.objects.for_record(ci).select_related("actor").order_by("-created_at", "-id")
    )


# When a class's identification changes --------------------------------------------------


def _class_keys(ci_class, schemas: Schemas) -> tuple[dict, list]:
    """The keys every CI of ``ci_class`` and below would hold under ``schemas``, and the
    clashes: (key -> CI id, [(key, CI id, other CI id)])."""
    from .attributes import descendant_ids

    wanted: dict[tuple, int] = {}
    clashes = []
    items = ConfigurationItem.objects.filter(ci_class_id__in=descendant_ids(ci_class)).only(
        "pk", "name", "ci_class_id", "attributes"
    )
    for ci in items.iterator(chunk_size=2000):
        for key in identification_keys(schemas.get(ci.ci_class_id), ci.name, ci.attributes):
            if key in wanted and wanted[key] != ci.pk:
                clashes.append((key, wanted[key], ci.pk))
            wanted[key] = ci.pk
    return wanted, clashes


def identification_clashes(ci_class, schemas: Schemas) -> str | None:
    """What would stop ``schemas`` (with a class's changed rules or unique attributes)
    from holding: CIs that would become the same CI. None when nothing clashes."""
    _, clashes = _class_keys(ci_class, schemas)
    if not clashes:
        return None
    names = dict(
        ConfigurationItem.objects.filter(
            pk__in={pk for _, a, b in clashes[:5] for pk in (a, b)}
        ).values_list("pk", "name")
    )
    sample = "; ".join(
        gettext("%(one)s and %(other)s (%(rule)s)")
        % {"one": names.get(a), "other": names.get(b), "rule": key[1]}
        for key, a, b in clashes[:5]
    )
    return ngettext(
        "%(count)d pair(s) of CIs would be one CI: %(sample)s.",
        "%(count)d pair(s) of CIs would be one CI: %(sample)s.",
        len(clashes),
    ) % {"count": len(clashes), "sample": sample}


@transaction.atomic
def rebuild_keys(ci_class) -> int:
    """Recompute the identification keys of every CI of the class and below, after its
    rules or unique attributes changed (the check in ``clean`` refused clashes)."""
    from .attributes import descendant_ids

    wanted, _ = _class_keys(ci_class, Schemas())
    CIKey.objects.filter(ci__ci_class_id__in=descendant_ids(ci_class)).delete()
    CIKey.objects.bulk_create(
        [CIKey(ci_id=pk, scope_id=s, rule=r, value=v) for (s, r, v), pk in wanted.items()],
        batch_size=5000,
        ignore_conflicts=True,
    )
    return len(wanted)
