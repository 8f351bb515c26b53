"""JSON bodies parsed with bounds: a document nested deeper than any of ours (a thousand
levels would exhaust the parser's recursion) is a 400 naming the problem, never a 500; a
string (a value or a key) holding NUL or another control character is a 400 naming the
field where it is (``title``, ``variables.laptop``, ``tasks[2].title``), as the request
guard does for query strings and forms (``itsm.core.middleware``)."""

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from itsm.core.middleware import CONTROL_MESSAGE, has_control, shown

#: Deeper than any request body the API takes (request variables, CI attributes,
#: agreement conditions are a few levels deep).
MAX_DEPTH = 32


def depth_of(value) -> int:
    """How deeply ``value`` nests lists and objects (iteratively: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def control_characters_at(value) -> list[str]:
    """Where ``value`` holds a string with a control character: each place's path."""
    found = []
    stack = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if has_control(item):
                found.append(path or "non_field_errors")
        elif isinstance(item, dict):
            for key, child in item.items():
                name = shown(str(key))
                where = f"{path}.{name}" if path else name
                if has_control(str(key)):
                    found.append(where)
                stack.append((where, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))
    return sorted(found)


def too_deep() -> str:
    return gettext("JSON nested deeper than %(depth)s levels.") % {"depth": MAX_DEPTH}


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep()) from None
        if depth_of(data) > MAX_DEPTH:
            raise ParseError(too_deep())
        bad = control_characters_at(data)
        if bad:
            raise ValidationError({where: [CONTROL_MESSAGE] for where in bad})
        return data
