"""Small helpers every practice's screens share."""

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def query_without(params: QueryDict, *keys) -> str:
    """The query string without these parameters (to build sort and paging links)."""
    copy = params.copy()
    for key in keys:
        copy.pop(key, None)
    return copy.urlencode()


#: The largest id a bigint column holds.
MAX_ID = 2**63 - 1


def parse_id(raw) -> int | None:
    """A whole number typed by someone (a query or form value): ASCII digits only and
    small enough for the database, else None (never a 500 from int() or the driver)."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def posted_version(request) -> int | None:
    """The record version a form was rendered with (for conflict detection)."""
    return parse_id(request.POST.get("version", ""))


def add_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names, else on top."""
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{field}: {message}")


def error_text(error) -> str:
    """A ValidationError as one sentence, for a flash message."""
    if hasattr(error, "message_dict"):
        return " ".join(m for ms in error.message_dict.values() for m in ms)
    return " ".join(getattr(error, "messages", [])) or gettext("That is not possible.")
