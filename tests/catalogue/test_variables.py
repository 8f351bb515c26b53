"""Catalogue item forms: the JSON Schema the API publishes and server-side validation with it."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator

from catalogue import variables
from catalogue.models import CatalogueCategory, CatalogueItem, Variable
from tests import factories

pytestmark = pytest.mark.django_db
T = Variable.Type


@pytest.fixture
def laptop(db):
    category = CatalogueCategory.objects.create(name="Hardware")
    item = CatalogueItem.objects.create(name="New laptop", category=category)
    make = lambda **f: Variable.objects.create(item=item, **f)  # noqa: E731
    make(
        name="model",
        label="Model",
        type=T.CHOICE,
        required=True,
        order=1,
        choices=[{"value": "mac", "label": "MacBook"}, {"value": "thinkpad", "label": "ThinkPad"}],
    )
    make(name="reason", label="Why?", type=T.MULTILINE, required=True, min_length=10, order=2)
    make(
        name="ram_gb",
        label="Memory (GB)",
        type=T.NUMBER,
        min_value=Decimal(8),
        max_value=Decimal(64),
        default=16,
        order=3,
    )
    make(name="asset_tag", label="Old asset tag", type=T.TEXT, regex=r"AT-\d{5}", order=4)
    make(name="needed_by", label="Needed by", type=T.DATE, order=5)
    make(name="handover", label="Handover", type=T.DATETIME, order=6)
    make(
        name="accessories",
        label="Accessories",
        type=T.MULTICHOICE,
        order=7,
        choices=[{"value": "dock"}, {"value": "mouse"}, {"value": "bag"}],
    )
    make(name="replace", label="Replaces a laptop?", type=T.BOOLEAN, order=8)
    make(
        name="old_laptop",
        label="Which laptop?",
        type=T.CI,
        required=True,
        order=9,
        show_when={"variable": "replace", "equals": True},
    )
    make(name="for_user", label="For whom", type=T.USER, order=10)
    make(
        name="manager_ok",
        label="Manager approved by mail",
        type=T.ATTACHMENT,
        order=11,
        require_when={"variable": "model", "equals": "mac"},
    )
    return item


VALID = {"model": "thinkpad", "reason": "Mine is five years old.", "replace": False}


def errors_of(item, answers, user=None) -> dict:
    with pytest.raises(ValidationError) as caught:
        variables.validate(item, answers, user)
    return caught.value.message_dict


def test_schema_is_valid_draft_2020_12_and_describes_every_variable(laptop):
    schema = variables.json_schema(laptop)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == set(laptop.variables.values_list("name", flat=True))
    assert schema["required"] == ["model", "reason"]  # old_laptop only when shown
    props = schema["properties"]
    assert props["ram_gb"] == {
        "title": "Memory (GB)",
        "type": "number",
        "minimum": 8,
        "maximum": 64,
        "default": 16,
    }
    assert props["asset_tag"]["pattern"] == r"^(?:AT-\d{5})$"
    assert props["needed_by"]["format"] == "date"
    assert props["accessories"]["type"] == "array"
    assert [c["const"] for c in props["model"]["oneOf"]] == ["mac", "thinkpad"]
    assert props["for_user"]["x-reference"] == "user"


def test_valid_answers_pass_and_defaults_fill_in(laptop):
    cleaned = variables.validate(laptop, VALID)
    assert cleaned == {**VALID, "ram_gb": 16}


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"reason": "Mine is five years old."}, "model", "This is required."),
        ({**VALID, "model": "commodore"}, "model", "Choose one of: mac, thinkpad."),
        ({**VALID, "reason": "old"}, "reason", "At least 10 characters."),
        ({**VALID, "ram_gb": 4}, "ram_gb", "At least 8."),
        ({**VALID, "ram_gb": 128}, "ram_gb", "At most 64."),
        ({**VALID, "ram_gb": "lots"}, "ram_gb", "Expected a number."),
        (
            {**VALID, "asset_tag": "AT-12"},
            "asset_tag",
            r"Old asset tag is not in the expected form: text matching AT-\d{5}.",
        ),
        ({**VALID, "needed_by": "next friday"}, "needed_by", "A date as YYYY-MM-DD."),
        (
            {**VALID, "handover": "soon"},
            "handover",
            "A date and time as YYYY-MM-DDTHH:MM (ISO 8601).",
        ),
        ({**VALID, "accessories": ["dock", "dock"]}, "accessories", "Each choice once."),
        ({**VALID, "accessories": ["jetpack"]}, "accessories", "Choose one of: dock, mouse, bag."),
        ({**VALID, "replace": "yes"}, "replace", "Expected yes or no (true/false)."),
        ({**VALID, "for_user": "nobody"}, "for_user", "There is no active user nobody."),
        ({**VALID, "colour": "red"}, "colour", "This item has no such question."),
    ],
)
def test_each_wrong_answer_is_named(laptop, answers, field, message):
    assert errors_of(laptop, answers)[f"variables.{field}"] == [message]


def test_a_conditional_question_is_required_only_when_shown(laptop):
    errors = errors_of(laptop, {**VALID, "replace": True})
    assert errors == {"variables.old_laptop": ["This is required."]}
    ci = factories.ci("lt-0042")
    assert (
        variables.validate(laptop, {**VALID, "replace": True, "old_laptop": ci.pk})["old_laptop"]
        == ci.pk
    )
    assert errors_of(laptop, {**VALID, "replace": True, "old_laptop": 999999}) == {
        "variables.old_laptop": ["There is no configuration item 999999."]
    }
    # Hidden (replace is false): answering it is refused rather than silently kept.
    assert errors_of(laptop, {**VALID, "old_laptop": ci.pk}) == {
        "variables.old_laptop": [
            "This question does not apply with the other answers; leave it out."
        ]
    }


def test_require_when_makes_a_question_required(laptop):
    assert errors_of(laptop, {**VALID, "model": "mac"}) == {
        "variables.manager_ok": ["This is required."]
    }
    assert variables.validate(laptop, {**VALID, "model": "mac", "manager_ok": 7})["manager_ok"] == 7


def test_several_wrong_answers_are_all_named(laptop):
    errors = errors_of(laptop, {"model": "amiga", "reason": "x", "ram_gb": 1})
    assert set(errors) == {"variables.model", "variables.reason", "variables.ram_gb"}


def test_answers_must_be_an_object(laptop):
    assert errors_of(laptop, ["model", "mac"]) == {
        "variables": ["An object of answers, by variable name."]
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"type": T.TEXT, "regex": "(unclosed"}, "regex"),
        ({"type": T.CHOICE, "choices": []}, "choices"),
        ({"type": T.CHOICE, "choices": ["a", "b"]}, "choices"),
        ({"type": T.TEXT, "show_when": {"variable": "x"}}, "show_when"),
        ({"type": T.NUMBER, "min_value": Decimal(5), "max_value": Decimal(1)}, "max_value"),
    ],
)
def test_bad_variable_definitions_are_refused(laptop, fields, field):
    variable = Variable(item=laptop, name="extra", label="Extra", **fields)
    with pytest.raises(ValidationError) as caught:
        variable.full_clean()
    assert field in caught.value.message_dict


def test_every_missing_answer_is_named_at_once(laptop):
    assert errors_of(laptop, {}) == {
        "variables.model": ["This is required."],
        "variables.reason": ["This is required."],
    }
