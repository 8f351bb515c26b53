"""A catalogue item's form as JSON Schema, and the validation of answers against it.

One definition serves everyone: the API publishes ``json_schema(item)`` so integrations can
build the form, the portal renders the same variables, and ``validate(item, answers)``
checks answers on the server with that very schema (jsonschema, Draft 2020-12) plus what a
schema cannot know (that a user or configuration item exists, that a date-time parses).
"""

import re
from datetime import UTC
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from jsonschema import Draft202012Validator, FormatChecker

from cmdb.models import ConfigurationItem
from itsm.core.scoping import visible_choices

from .models import CatalogueItem, Variable

T = Variable.Type
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _number(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def variable_schema(variable: Variable) -> dict:
    schema: dict = {"title": variable.label}
    if variable.help_text:
        schema["description"] = variable.help_text
    kind = variable.type
    if kind in (T.TEXT, T.MULTILINE):
        schema["type"] = "string"
        if variable.regex:
            schema["pattern"] = f"^(?:{variable.regex})$"
        if variable.min_length is not None:
            schema["minLength"] = variable.min_length
        if variable.max_length is not None:
            schema["maxLength"] = variable.max_length
        if kind == T.MULTILINE:
            schema["x-multiline"] = True
    elif kind == T.NUMBER:
        schema["type"] = "number"
        if variable.min_value is not None:
            schema["minimum"] = _number(variable.min_value)
        if variable.max_value is not None:
            schema["maximum"] = _number(variable.max_value)
    elif kind == T.CHOICE:
        schema["type"] = "string"
        schema["oneOf"] = [
            {"const": c["value"], "title": c.get("label", c["value"])} for c in variable.choices
        ]
    elif kind == T.MULTICHOICE:
        schema["type"] = "array"
        schema["uniqueItems"] = True
        schema["items"] = {
            "oneOf": [
                {"const": c["value"], "title": c.get("label", c["value"])} for c in variable.choices
            ]
        }
        if variable.required:
            schema["minItems"] = 1
    elif kind == T.DATE:
        schema.update(type="string", format="date")
    elif kind == T.DATETIME:
        schema.update(type="string", format="date-time")
    elif kind == T.BOOLEAN:
        schema["type"] = "boolean"
    elif kind == T.USER:
        schema.update(type="string", description=variable.help_text or gettext("A username."))
        schema["x-reference"] = "user"
    elif kind == T.CI:
        schema.update(
            type="integer", description=variable.help_text or gettext("A configuration item id.")
        )
        schema["x-reference"] = "configuration_item"
    elif kind == T.ATTACHMENT:
        schema.update(
            type="integer", description=variable.help_text or gettext("An uploaded file's id.")
        )
        schema["x-reference"] = "attachment"
    if variable.default is not None:
        schema["default"] = variable.default
    return schema


def _condition_if(condition: dict) -> dict:
    return {
        "properties": {condition["variable"]: {"const": condition["equals"]}},
        "required": [condition["variable"]],
    }


def json_schema(item: CatalogueItem, variables=None) -> dict:
    """The item's form as a JSON Schema document (Draft 2020-12)."""
    variables = list(item.variables.all() if variables is None else variables)
    schema = {
        "$schema": DIALECT,
        "title": item.name,
        "type": "object",
        "properties": {v.name: variable_schema(v) for v in variables},
        "required": [v.name for v in variables if v.required and not v.show_when],
        "additionalProperties": False,
    }
    if item.description:
        schema["description"] = item.description
    rules = []
    for v in variables:
        if v.show_when:
            # Hidden unless the condition holds; required (if so) only when shown.
            then = {"required": [v.name]} if v.required else {}
            rule = {"if": _condition_if(v.show_when), "else": {"not": {"required": [v.name]}}}
            if then:
                rule["then"] = then
            rules.append(rule)
        if v.require_when:
            rules.append({"if": _condition_if(v.require_when), "then": {"required": [v.name]}})
    if rules:
        schema["allOf"] = rules
    return schema


def _field(error) -> str:
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        return missing[0] if missing else "variables"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return extra[0] if extra else "variables"
    if error.validator == "not" and list(error.path) == []:
        # A hidden variable was answered.
        return error.validator_value.get("required", ["variables"])[0]
    return str(error.path[0]) if error.path else "variables"


def _message(error, variables: dict[str, Variable]) -> str:
    variable = variables.get(_field(error))
    if error.validator == "required":
        return gettext("This is required.")
    if error.validator == "additionalProperties":
        return gettext("This item has no such question.")
    if error.validator == "not":
        return gettext("This question does not apply with the other answers; leave it out.")
    if error.validator == "pattern":
        return pattern_message(variable)
    if error.validator in ("oneOf", "const"):
        allowed = ", ".join(c["value"] for c in variable.choices) if variable else ""
        if allowed:
            return gettext("Choose one of: %(choices)s.") % {"choices": allowed}
        return gettext("Not one of the choices.")
    if error.validator == "format":
        return (
            gettext("A date as YYYY-MM-DD.") if error.validator_value == "date" else error.message
        )
    if error.validator == "type":
        expected = {
            "string": gettext("text"),
            "number": gettext("a number"),
            "integer": gettext("a whole number"),
            "boolean": gettext("yes or no (true/false)"),
            "array": gettext("a list"),
        }.get(error.validator_value, error.validator_value)
        return gettext("Expected %(expected)s.") % {"expected": expected}
    if error.validator == "minimum":
        return gettext("At least %(value)s.") % {"value": error.validator_value}
    if error.validator == "maximum":
        return gettext("At most %(value)s.") % {"value": error.validator_value}
    if error.validator == "minLength":
        return gettext("At least %(count)d characters.") % {"count": error.validator_value}
    if error.validator == "maxLength":
        return gettext("At most %(count)d characters.") % {"count": error.validator_value}
    if error.validator == "minItems":
        return gettext("Choose at least one.")
    if error.validator == "uniqueItems":
        return gettext("Each choice once.")
    return error.message


def pattern_message(variable: Variable | None) -> str:
    """What a person is told when a text does not match its question's pattern: the
    question, and the expected form (its help text, else the pattern itself)."""
    if variable is None:
        return gettext("This is not in the expected form.")
    hint = variable.help_text.strip().rstrip(".")
    expected = hint if hint else gettext("text matching %(pattern)s") % {"pattern": variable.regex}
    return gettext("%(question)s is not in the expected form: %(expected)s.") % {
        "question": variable.label,
        "expected": expected,
    }


NUL = "\x00"


def _holds_nul(name, value) -> bool:
    """Whether a NUL character is in the answer's name or anywhere in its value (walked
    iteratively: the parser already bounds the depth)."""
    stack = [name, value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def validate(item: CatalogueItem, answers, user=None) -> dict:
    """The answers, checked: a ValidationError names each variable that is wrong (as
    ``variables.<name>``); nothing is changed. Returns the answers with defaults filled in
    for questions left out."""
    if not isinstance(answers, dict):
        raise ValidationError({"variables": _("An object of answers, by variable name.")})
    with_nul = {name: value for name, value in answers.items() if _holds_nul(name, value)}
    if with_nul:  # PostgreSQL cannot store one: named here rather than failing there
        raise ValidationError(
            {
                f"variables.{name.replace(NUL, '')}": gettext("Null characters are not allowed.")
                for name in with_nul
            }
        )
    variables = {v.name: v for v in item.variables.all()}
    schema = json_schema(item, variables.values())
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(answers):
        if error.validator in ("allOf", "if"):
            continue
        if error.validator == "required":  # one error lists every missing answer
            names = [n for n in error.validator_value if n not in answers]
        else:
            names = [_field(error)]
        message = _message(error, variables)
        for name in names:
            bucket = errors.setdefault(f"variables.{name}", [])
            if message not in bucket:
                bucket.append(message)
    for name, value in answers.items():
        variable = variables.get(name)
        if variable is None or f"variables.{name}" in errors or value in (None, ""):
            continue
        problem = _check_reference(variable, value, user)
        if problem:
            errors[f"variables.{name}"] = [problem]
    if errors:
        raise ValidationError(errors)
    cleaned = dict(answers)
    for name, variable in variables.items():
        if name not in cleaned and variable.default is not None and _shown(variable, cleaned):
            cleaned[name] = variable.default
    return cleaned


def _shown(variable: Variable, answers: dict) -> bool:
    condition = variable.show_when
    return not condition or answers.get(condition["variable"]) == condition["equals"]


def _check_reference(variable: Variable, value, user) -> str | None:
    if variable.type == T.DATETIME and parse_datetime(str(value)) is None:
        return gettext("A date and time as YYYY-MM-DDTHH:MM (ISO 8601).")
    if variable.type == T.USER:
        # Only someone who may look people up learns whether a username exists; anyone
        # else (an employee sees no directory) gets the same answer for every well-formed
        # name, so ordering cannot be used to probe for accounts. Fulfilment sees the
        # name as it was typed.
        if user is None or getattr(user, "is_agent", False):
            people = visible_choices(get_user_model().objects.filter(is_active=True), user)
            if not people.filter(username=value).exists():
                return gettext("There is no active user %(username)s.") % {"username": value}
        elif not isinstance(value, str) or not USERNAME.fullmatch(value):
            return gettext("A username (letters, digits and @ . + - _).")
    if variable.type == T.CI and not offered_cis().filter(pk=value).exists():
        return gettext("There is no configuration item %(id)s.") % {"id": value}
    return None


#: A well-formed username (Django's own rule: ``UnicodeUsernameValidator``), bounded.
USERNAME = re.compile(r"[\w.@+-]{1,150}")


def offered_cis():
    """The configuration items a CI question offers: every CI not retired (the portal's
    order form lists them to employees; see ``catalogue.forms``)."""
    return ConfigurationItem.objects.exclude(status=ConfigurationItem.Status.RETIRED)


def _display(variable: Variable | None, value) -> str:
    """An answer as a person reads it (choice labels, yes/no, lists joined)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if variable is not None and variable.type == Variable.Type.DATETIME:
        moment = parse_datetime(str(value))
        if moment is not None:  # in the reader's time zone, which it names
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, UTC)
            return date_format(timezone.localtime(moment), "Y-m-d H:i T")
    labels = {}
    if variable is not None and isinstance(variable.choices, list):
        labels = {
            c.get("value"): c.get("label") or c.get("value")
            for c in variable.choices
            if isinstance(c, dict)
        }
    if isinstance(value, list):
        return ", ".join(str(labels.get(v, v)) for v in value)
    return str(labels.get(value, value))


def display_answers(service_request) -> list[tuple[str, str]]:
    """(question, answer) in the order of the item's form; answers to removed questions last."""
    answers = dict(service_request.variables or {})
    rows = []
    for variable in service_request.item.variables.all():
        if variable.name in answers:
            rows.append((variable.label, _display(variable, answers.pop(variable.name))))
    rows.extend((name, _display(None, value)) for name, value in sorted(answers.items()))
    return rows
