"""What a row holds, as plain JSON, for an event's before and after: every concrete field
(foreign keys by id) and many-to-many fields as sorted ids. Secrets are masked when the
event is recorded (``services.masked``)."""

from django.db import models

from .models import canonical


def _plain(value):
    import json

    return json.loads(canonical(value))


def snapshot(obj, *, many_to_many: bool = True) -> dict:
    """``obj``'s values by field name (a deferred field is left out rather than loaded)."""
    values = {}
    loaded = obj.__dict__
    for field in obj._meta.concrete_fields:
        if field.attname not in loaded:
            continue
        value = loaded[field.attname]
        if isinstance(field, models.FileField):
            value = getattr(value, "name", value) or ""
        values[field.name] = _plain(value)
    if many_to_many and obj.pk is not None:
        for field in obj._meta.many_to_many:
            values[field.name] = sorted(
                getattr(obj, field.name).values_list("pk", flat=True), key=str
            )
    return values


def initial_values(form) -> dict:
    """What the fields a model form changed held before (its initial values), by field
    name; many-to-many values as sorted ids."""
    model = form._meta.model
    names = {f.name for f in model._meta.concrete_fields} | {
        f.name for f in model._meta.many_to_many
    }
    values = {}
    for name in form.changed_data:
        if name not in names:
            continue
        value = form.initial.get(name)
        if isinstance(value, list | tuple | set) and name not in {
            f.name for f in model._meta.concrete_fields
        }:
            value = sorted((getattr(item, "pk", item) for item in value), key=str)
        values[name] = _plain(value)
    return values


def difference(before: dict, after: dict) -> tuple[dict, dict]:
    """The fields whose values differ, as (before, after)."""
    names = [name for name in after if name in before and before[name] != after[name]]
    names += [name for name in before if name not in after]
    return {n: before.get(n) for n in names}, {n: after.get(n) for n in names}
