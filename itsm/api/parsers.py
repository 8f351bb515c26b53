"""JSON bodies parsed with bounds: a document nested deeper than any of ours (a thousand
levels would exhaust the parser's recursion) is a 400 naming the problem, never a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

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


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        if depth_of(data) > MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        return data
