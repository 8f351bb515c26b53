"""The condition language of agreements, described and checked in one place.

A condition is an object of record attributes to the value they must have, or a list of
values any of which will do (``{"state": "on_hold", "on_hold_reason": ["awaiting_caller"]}``);
every attribute named must match (``services.matches``). An agreement's ``conditions`` (when
it applies) is one condition; ``pause_when`` and ``run_when`` are lists of conditions, any
of which matches.

The attributes are those a record type's SLA profile gives the evaluator
(``Profile.attributes``): their names are read from the profile for a blank record, and what
values they take from the record's model field of that name (choices, a related model, a
yes/no) or, for an attribute that is no field of the record (an incident's organization),
from the agreement's own field of that name, which ``services.applies`` compares with it.

``problems`` checks a value against that description and says, per condition and
attribute, what is wrong; ``Agreement.clean`` (so the API and the admin alike) and the
admin's builder rows use it."""

import logging
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models as db
from django.utils.translation import gettext, pgettext_lazy

from itsm.core.builders import RowProblem

from . import registry

logger = logging.getLogger(__name__)

#: How a condition names values, as ``services.matches`` reads them: one value, or a list
#: of values any of which matches.
OPERATORS = {"is": pgettext_lazy("condition", "is"), "in": pgettext_lazy("condition", "is one of")}
#: Related rows offered as choices in the admin; beyond this, an id is typed.
REFERENCE_LIMIT = 500
#: The shapes of the three condition fields of an agreement.
SHAPES = {"conditions": "one", "pause_when": "any", "run_when": "any"}


@dataclass(frozen=True)
class Attribute:
    """One attribute conditions may name: its kind (choice, reference, boolean, number or
    text), the value it has when empty (``optional``: it may be), and the related model of
    a reference."""

    name: str
    label: str
    kind: str
    empty: object = None
    optional: bool = True
    choices: tuple = ()
    related: type | None = field(default=None, compare=False)

    def values(self) -> list[tuple[object, str]]:
        """The values to offer: the choices, or the first rows of the related model."""
        if self.related is None:
            return list(self.choices)
        rows = self.related._default_manager.all()
        relations = [f.name for f in self.related._meta.concrete_fields if f.many_to_one]
        return [(row.pk, str(row)) for row in rows.select_related(*relations)[:REFERENCE_LIMIT]]


def _blank(model: type):
    """A record with nothing filled in (its required relations blank rows too), for the
    profile to name its attributes."""
    record = model()
    for f in model._meta.concrete_fields:
        if f.many_to_one and not f.null:
            setattr(record, f.name, f.related_model())
    return record


def _model_field(model: type, name: str):
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if getattr(found, "concrete", False) else None


def _describe(model: type, name: str) -> Attribute:
    from .models import Agreement

    model_field = _model_field(model, name) or _model_field(Agreement, name)
    if model_field is None:
        return Attribute(name, name.replace("_", " ").capitalize(), "text")
    label = str(model_field.verbose_name)
    label = label[:1].upper() + label[1:]
    text = isinstance(model_field, db.CharField | db.TextField) and not model_field.null
    empty = "" if text else None
    # A field of the agreement (not the record) may be empty on the record.
    optional = model_field.model is not model or model_field.null or model_field.blank
    if model_field.many_to_one:
        related = model_field.related_model
        return Attribute(name, label, "reference", empty, optional, related=related)
    if model_field.choices:
        choices = tuple((value, str(shown)) for value, shown in model_field.flatchoices)
        return Attribute(name, label, "choice", empty, optional, choices)
    if isinstance(model_field, db.BooleanField):
        return Attribute(
            name, label, "boolean", None, False, ((True, gettext("Yes")), (False, gettext("No")))
        )
    if isinstance(model_field, db.IntegerField | db.FloatField | db.DecimalField):
        return Attribute(name, label, "number", empty, optional)
    return Attribute(name, label, "text", empty, optional)


def attributes(model: type) -> dict[str, Attribute]:
    """The attributes conditions on records of ``model`` may name (none without a profile)."""
    profile = registry.profile_for(model)
    if profile is None:
        return {}
    try:
        names = list(profile.attributes(_blank(model)))
    except Exception:  # a profile that needs a saved record: only the shape is checked
        logger.warning("Cannot name the SLA attributes of %s", model, exc_info=True)
        return {}
    return {name: _describe(model, name) for name in names}


def record_models() -> list[type]:
    """The record types service levels apply to."""
    return registry.models()


def record_types() -> list[ContentType]:
    return [ContentType.objects.get_for_model(m) for m in record_models()]


def priority_choices() -> list[tuple[int, str]]:
    """The priorities an agreement may name: those of the record types' ``priority`` field."""
    seen: dict[int, str] = {}
    for model in record_models():
        priority = _model_field(model, "priority")
        for value, text in getattr(priority, "flatchoices", None) or ():
            seen.setdefault(value, str(text))
    return sorted(seen.items())


def _shape_message(shape: str) -> str:
    if shape == "one":
        return gettext('An object of attribute → value or values, e.g. {"category": [4]}.')
    return gettext('A list of conditions, e.g. [{"state": "on_hold"}].')


def _show(value) -> str:
    if value is None or value == "":
        return gettext("empty")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return repr(value) if isinstance(value, str) else str(value)


def _check_value(attribute: Attribute, value) -> str | None:
    if value is None or value == "":
        if attribute.optional and value == attribute.empty:
            return None
        if not attribute.optional:
            return gettext("%(attribute)s always has a value.") % {"attribute": attribute.label}
        empty = gettext('"" (not null)') if attribute.empty == "" else gettext('null (not "")')
        return gettext("An empty %(attribute)s is %(empty)s.") % {
            "attribute": attribute.label.lower(),
            "empty": empty,
        }
    if attribute.kind == "boolean":
        return None if isinstance(value, bool) else gettext("Yes or no (true or false).")
    if isinstance(value, bool):
        return gettext("%(value)s is not a value of %(attribute)s.") % {
            "value": _show(value),
            "attribute": attribute.label.lower(),
        }
    if attribute.kind == "choice":
        allowed = [v for v, _ in attribute.choices]
        if value not in allowed:
            listed = ", ".join(_show(v) for v in allowed)
            return gettext("%(value)s is not one of: %(values)s.") % {
                "value": _show(value),
                "values": listed,
            }
        return None
    if attribute.kind == "reference":
        ok = isinstance(value, int) and 0 < value < 2**63
        if ok:
            return None
        return gettext("%(value)s is not an id of a %(attribute)s.") % {
            "value": _show(value),
            "attribute": attribute.label.lower(),
        }
    if attribute.kind == "number":
        if isinstance(value, int | float):
            return None
        return gettext("%(value)s is not a number.") % {"value": _show(value)}
    if isinstance(value, str):
        return None
    return gettext("%(value)s is not text.") % {"value": _show(value)}


def _check_condition(condition, known: dict[str, Attribute], group, refs) -> list[RowProblem]:
    if not isinstance(condition, dict):
        return [RowProblem(gettext('A condition is an object, e.g. {"state": "on_hold"}.'), group)]
    if group is not None and not condition:
        return [RowProblem(gettext("A condition names at least one attribute."), group)]
    found = []
    for name, expected in condition.items():
        attribute = known.get(name)
        if known and attribute is None:
            listed = ", ".join(known)
            problem = gettext("No attribute %(name)s; one of: %(values)s.") % {
                "name": repr(name),
                "values": listed,
            }
            found.append(RowProblem(problem, group, name))
            continue
        values = expected if isinstance(expected, list) else [expected]
        if not values:
            found.append(RowProblem(gettext("Choose at least one value."), group, name))
            continue
        for value in values:
            problem = _check_value(attribute, value) if attribute else None
            if problem:
                found.append(RowProblem(problem, group, name))
                break
            if attribute and attribute.kind == "reference" and value is not None:
                refs.setdefault(attribute, []).append((group, name, value))
    return found


def problems(model: type | None, value, shape: str) -> list[RowProblem]:
    """What is wrong with ``value`` as conditions on records of ``model``: ``shape`` is
    ``"one"`` (one condition) or ``"any"`` (a list of conditions). Related rows named must
    exist (one query per related model)."""
    known = attributes(model) if model is not None else {}
    refs: dict[Attribute, list] = {}
    if shape == "one":
        if not isinstance(value, dict):
            return [RowProblem(_shape_message(shape))]
        found = _check_condition(value, known, None, refs)
    else:
        if not isinstance(value, list):
            return [RowProblem(_shape_message(shape))]
        found = []
        for index, condition in enumerate(value):
            found.extend(_check_condition(condition, known, index, refs))
    for attribute, named in refs.items():
        ids = {value for _, _, value in named}
        existing = set(
            attribute.related._default_manager.filter(pk__in=ids).values_list("pk", flat=True)
        )
        for group, name, value in named:
            if value not in existing:
                found.append(
                    RowProblem(
                        gettext("There is no %(attribute)s %(value)s.")
                        % {"attribute": attribute.label.lower(), "value": value},
                        group,
                        name,
                    )
                )
    return found


def messages(found: list[RowProblem], known: dict[str, Attribute] | None = None) -> list[str]:
    """The problems as sentences, each saying which condition and attribute it is about."""
    known = known or {}
    out = []
    for problem in found:
        where = []
        if problem.group is not None:
            where.append(gettext("Condition %(number)s") % {"number": problem.group + 1})
        if problem.attribute:
            attribute = known.get(problem.attribute)
            where.append(attribute.label if attribute else problem.attribute)
        out.append(f"{', '.join(where)}: {problem.message}" if where else problem.message)
    return out


def check_agreement(agreement) -> dict[str, list[str]]:
    """The problems of an agreement's three condition fields, by field (for ``clean``)."""
    model = None
    if agreement.record_type_id:
        model = ContentType.objects.get_for_id(agreement.record_type_id).model_class()
        if model not in record_models():
            model = None
    known = attributes(model) if model is not None else {}
    errors = {}
    for name, shape in SHAPES.items():
        found = problems(model, getattr(agreement, name), shape)
        if found:
            errors[name] = messages(found, known)
    return errors
