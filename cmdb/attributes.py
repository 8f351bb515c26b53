"""A CI class's attribute definitions (its own and its ancestors'), the checking of
attribute values against them, and the identification keys they give a CI."""

import datetime
import ipaddress
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext

from .models import AttributeDefinition, CIClass

T = AttributeDefinition.Type

#: CI fields an identification rule may name besides attributes.
RULE_FIELDS = {"name"}


@dataclass
class ClassSchema:
    """Everything about a class needed to check and identify its CIs, loaded once."""

    ci_class: CIClass
    #: root first, the class itself last
    chain: list[CIClass]
    definitions: dict[str, AttributeDefinition]
    #: (scope class id, rule) pairs: identification rules and unique attributes
    rules: list[tuple[int, tuple[str, ...]]]

    @property
    def descendant_ids(self) -> list[int]:
        return descendant_ids(self.ci_class)


class Schemas:
    """Class schemas by id or key, loaded with two queries for all classes. Pass one
    instance through a batch (an import) so nothing is loaded twice."""

    def __init__(self):
        self.classes = {c.pk: c for c in CIClass.objects.all()}
        self.by_key = {c.key: c for c in self.classes.values()}
        self.own: dict[int, list[AttributeDefinition]] = {}
        for definition in AttributeDefinition.objects.all():
            self.own.setdefault(definition.ci_class_id, []).append(definition)
        self._schemas: dict[int, ClassSchema] = {}

    def get(self, ci_class: CIClass | int | str) -> ClassSchema:
        if isinstance(ci_class, str):
            ci_class = self.by_key[ci_class]
        pk = ci_class if isinstance(ci_class, int) else ci_class.pk
        if pk not in self._schemas:
            self._schemas[pk] = self._build(self.classes[pk])
        return self._schemas[pk]

    def _build(self, ci_class: CIClass) -> ClassSchema:
        chain = []
        current, seen = ci_class, set()
        while current is not None and current.pk not in seen:
            seen.add(current.pk)
            chain.append(current)
            current = self.classes.get(current.parent_id)
        chain.reverse()
        definitions: dict[str, AttributeDefinition] = {}
        rules: list[tuple[int, tuple[str, ...]]] = []
        for cls in chain:
            for definition in sorted(self.own.get(cls.pk, []), key=lambda d: (d.order, d.key)):
                definitions.setdefault(definition.key, definition)
                if definition.unique:
                    rules.append((cls.pk, (definition.key,)))
            for rule in cls.identification_rules or []:
                rules.append((cls.pk, tuple(rule)))
        unique_rules = list(dict.fromkeys(rules))
        return ClassSchema(ci_class, chain, definitions, unique_rules)


def schema_for(ci_class: CIClass) -> ClassSchema:
    return Schemas().get(ci_class)


def descendant_ids(ci_class: CIClass) -> list[int]:
    """The class and every class below it."""
    parents = dict(CIClass.objects.values_list("pk", "parent_id"))
    found = {ci_class.pk}
    changed = True
    while changed:
        changed = False
        for pk, parent in parents.items():
            if parent in found and pk not in found:
                found.add(pk)
                changed = True
    return sorted(found)


_url = URLValidator()
_email = EmailValidator()


#: Longest text value (identification keys are built from them, at most 500 characters).
MAX_TEXT = 400
#: Numbers beyond this are refused (JSON and the database must hold them exactly).
MAX_NUMBER = Decimal(10) ** 15


def _number(value, message: str) -> Decimal:
    """A finite number of sensible size, or ValueError with ``message``."""
    if isinstance(value, bool | dict | list):
        raise ValueError(message)
    try:
        number = Decimal(str(value).strip())
        finite = number.is_finite() and abs(number) < MAX_NUMBER
    except (InvalidOperation, ArithmeticError, ValueError):
        raise ValueError(message) from None
    if not finite:
        raise ValueError(
            gettext("%(expected)s, below %(limit)s in size.")
            % {"expected": message[:-1], "limit": f"{MAX_NUMBER:,.0f}"}
        )
    return number


def coerce(definition: AttributeDefinition, value):
    """The value as stored (JSON), or ValueError with what is expected."""
    kind = definition.type
    if kind == T.TEXT:
        if isinstance(value, dict | list):
            raise ValueError(gettext("Text expected."))
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            raise ValueError(gettext("At most %(count)d characters.") % {"count": MAX_TEXT})
        return text
    if kind == T.INTEGER:
        number = _number(value, gettext("A whole number expected."))
        if number != number.to_integral_value():
            raise ValueError(gettext("A whole number expected."))
        return int(number)
    if kind == T.DECIMAL:
        return float(_number(value, gettext("A number expected.")))
    if kind == T.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "1", "y"}:
            return True
        if text in {"false", "no", "0", "n"}:
            return False
        raise ValueError(gettext("Yes or no expected (true/false)."))
    if kind == T.DATE:
        try:
            return datetime.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(gettext("A date as YYYY-MM-DD expected.")) from None
    if kind == T.CHOICE:
        text = str(value).strip()
        if text not in (definition.choices or []):
            raise ValueError(
                gettext("One of: %(values)s.")
                % {"values": ", ".join(map(str, definition.choices or []))}
            )
        return text
    if kind == T.IP_ADDRESS:
        try:
            return str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            raise ValueError(gettext("An IPv4 or IPv6 address expected.")) from None
    if kind == T.URL:
        text = str(value).strip()
        try:
            _url(text)
        except ValidationError:
            raise ValueError(gettext("A URL (http or https) expected.")) from None
        return text
    if kind == T.EMAIL:
        text = str(value).strip()
        try:
            _email(text)
        except ValidationError:
            raise ValueError(gettext("An email address expected.")) from None
        return text
    raise ValueError(f"Unknown attribute type {kind}.")  # pragma: no cover


def _no_attribute(schema: ClassSchema, key: str) -> str:
    return gettext("%(class)s has no attribute %(key)s.") % {
        "class": schema.ci_class.name,
        "key": key,
    }


def _required(schema: ClassSchema, definition: AttributeDefinition) -> str:
    return gettext("%(attribute)s is required for a %(class)s.") % {
        "attribute": definition.label,
        "class": schema.ci_class.name.lower(),
    }


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_attributes(schema: ClassSchema, values: dict) -> tuple[dict, dict]:
    """Check a CI's complete attribute values; returns (cleaned, errors by key). Blank
    values are dropped; unknown keys and missing required attributes are errors."""
    if not isinstance(values, dict):
        return {}, {"": gettext("An object of attribute values expected.")}
    cleaned, errors = {}, {}
    for key, value in values.items():
        definition = schema.definitions.get(key)
        if definition is None:
            errors[key] = _no_attribute(schema, key)
            continue
        if _blank(value):
            continue
        try:
            cleaned[key] = coerce(definition, value)
        except ValueError as exc:
            errors[key] = str(exc)
    for key, definition in schema.definitions.items():
        if definition.required and key not in cleaned and key not in errors:
            errors[key] = _required(schema, definition)
    return cleaned, errors


def clean_changed(schema: ClassSchema, current: dict, changes: dict) -> tuple[dict, dict]:
    """A CI's attributes after ``changes`` (a ``None`` or blank value removes one), with
    only the changed attributes checked: values the CI already holds stay as they are,
    even if an administrator has since made one required or removed its definition."""
    if not isinstance(changes, dict):
        return dict(current), {"": gettext("An object of attribute values expected.")}
    cleaned, errors = dict(current), {}
    for key, value in changes.items():
        definition = schema.definitions.get(key)
        if _blank(value):
            cleaned.pop(key, None)
            if definition is not None and definition.required:
                errors[key] = _required(schema, definition)
            continue
        if definition is None:
            errors[key] = _no_attribute(schema, key)
            continue
        try:
            cleaned[key] = coerce(definition, value)
        except ValueError as exc:
            errors[key] = str(exc)
    return cleaned, errors


def normalise(value) -> str:
    return " ".join(str(value).split()).casefold()


def identification_keys(schema: ClassSchema, name: str, attributes: dict) -> list[tuple]:
    """(scope id, rule, value) for every rule with a value in at least one of its fields
    (a missing one counts as empty: host ``db01`` with no domain is ``db01|``)."""
    keys = []
    for scope, rule in schema.rules:
        values = []
        for field in rule:
            value = name if field in RULE_FIELDS else attributes.get(field)
            values.append("" if _blank(value) else normalise(value))
        if any(values):
            keys.append((scope, "+".join(rule), "|".join(values)))
    return keys


def rule_label(schema: ClassSchema, rule: str) -> str:
    labels = []
    for field in rule.split("+"):
        definition = schema.definitions.get(field)
        labels.append(definition.label.lower() if definition else field)
    return gettext(" and ").join(labels)
