"""What makes an item's form and approval policy hold together, checked before they are
saved (the admin's inline rows; each problem names its row and field).

A question's default, and the value a show/require condition compares with, are checked
with the very schema the answers are checked with (``variables.variable_schema``, the
same messages): a default the order form would refuse is refused here first."""

from django.utils.translation import gettext
from jsonschema import Draft202012Validator, FormatChecker

from itsm.core.builders import RowProblem

from . import variables as answers
from .models import Variable

CHOICE_TYPES = (Variable.Type.CHOICE, Variable.Type.MULTICHOICE)
CONDITIONS = ("show_when", "require_when")


def _answer_problem(variable: Variable, value) -> str | None:
    """Why ``value`` would be refused as the answer to ``variable`` (None: it would not)."""
    schema = {"type": "object", "properties": {variable.name: answers.variable_schema(variable)}}
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in validator.iter_errors({variable.name: value}):
        return answers._message(error, {variable.name: variable})
    # What a schema cannot know: that the user or CI exists, that the date-time parses.
    return answers._check_reference(variable, value, None) if value not in (None, "") else None


def _choice_problems(index: int, variable: Variable) -> list[RowProblem]:
    if variable.type not in CHOICE_TYPES or not isinstance(variable.choices, list):
        return []  # the shape is the model's to check (Variable.clean)
    found, seen = [], set()
    for position, choice in enumerate(variable.choices):
        value = choice.get("value") if isinstance(choice, dict) else None
        if not isinstance(value, str) or not value.strip():
            found.append(
                RowProblem(
                    gettext("A choice needs a value."), position, index=index, field="choices"
                )
            )
        elif value in seen:
            found.append(
                RowProblem(
                    gettext("%(value)s is listed twice.") % {"value": repr(value)},
                    position,
                    index=index,
                    field="choices",
                )
            )
        seen.add(value)
    return found


def check_questions(questions: list[Variable], others: set[str] = frozenset()) -> list[RowProblem]:
    """The problems of an item's questions, given together (``others``: names of further
    questions the item keeps, e.g. rows that could not be read)."""
    by_name = {q.name: q for q in questions if q.name}
    names = set(by_name) | set(others)
    found: list[RowProblem] = []
    for index, question in enumerate(questions):
        found.extend(_choice_problems(index, question))
        if question.default is not None and not found_in(found, index, "choices"):
            problem = _answer_problem(question, question.default)
            if problem:
                found.append(
                    RowProblem(
                        gettext("As the default: %(problem)s") % {"problem": problem},
                        index=index,
                        field="default",
                    )
                )
        for field in CONDITIONS:
            condition = getattr(question, field)
            if not isinstance(condition, dict) or set(condition) != {"variable", "equals"}:
                continue  # empty, or the model's shape message
            other = condition["variable"]
            if other == question.name:
                continue
            if other not in names:
                found.append(
                    RowProblem(
                        gettext("This item has no question %(name)s.") % {"name": repr(other)},
                        index=index,
                        field=field,
                    )
                )
                continue
            referenced = by_name.get(other)
            problem = referenced and _answer_problem(referenced, condition["equals"])
            if problem:
                found.append(RowProblem(f"{referenced.label}: {problem}", index=index, field=field))
    found.extend(_cycles(questions))
    return found


def found_in(found: list[RowProblem], index: int, field: str) -> bool:
    return any(p.index == index and p.field == field for p in found)


def _cycles(questions: list[Variable]) -> list[RowProblem]:
    """A question shown only when another is answered, which is itself shown only when
    the first is (however long the loop): none of them would ever show."""
    shown_when = {
        q.name: q.show_when.get("variable")
        for q in questions
        if isinstance(q.show_when, dict) and q.show_when.get("variable")
    }
    found = []
    for index, question in enumerate(questions):
        seen, current = {question.name}, shown_when.get(question.name)
        while current and current not in seen:
            seen.add(current)
            current = shown_when.get(current)
        if current == question.name and question.name in shown_when:
            found.append(
                RowProblem(
                    gettext(
                        "These questions are shown only when each other is answered: "
                        "none would ever show."
                    ),
                    index=index,
                    field="show_when",
                )
            )
    return found
