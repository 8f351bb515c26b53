"""The date format of the person a request is for: how the kernel's date inputs
(``itsm.core.widgets.DateInput`` and ``DateTimeInput``) show and read dates.

A browser draws ``<input type="date">`` in its own language, whatever the page says; a
person who chose a format of their own (``User.date_format``) gets a text box in that
format instead, and what they type reaches forms and the API's serializers as ISO 8601.
The middleware sets it for the request, as it sets the time zone."""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

BROWSER = "browser"

#: format key -> (strftime pattern, what the box shows as its placeholder, regex)
FORMATS = {
    "iso": ("%Y-%m-%d", "YYYY-MM-DD", r"\d{4}-\d{1,2}-\d{1,2}"),
    "dmy": ("%d/%m/%Y", "DD/MM/YYYY", r"\d{1,2}/\d{1,2}/\d{4}"),
    "mdy": ("%m/%d/%Y", "MM/DD/YYYY", r"\d{1,2}/\d{1,2}/\d{4}"),
}

_current: ContextVar[str] = ContextVar("itsm_date_format", default=BROWSER)


def current() -> str:
    return _current.get()


@contextmanager
def override(key: str | None):
    token = _current.set(key if key in FORMATS else BROWSER)
    try:
        yield
    finally:
        _current.reset(token)


def spec() -> tuple[str, str, str] | None:
    """(pattern, placeholder, regex) of the current format, or None: the browser's."""
    return FORMATS.get(current())


def parse_date(text: str) -> date | None:
    found = spec()
    if found is None or not text:
        return None
    try:
        # a calendar date: no zone
        return datetime.strptime(text.strip(), found[0]).date()  # noqa: DTZ007
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    found = spec()
    if found is None or not text:
        return None
    try:
        # wall-clock time in the person's zone: the form field makes it aware in it
        return datetime.strptime(" ".join(text.split()), f"{found[0]} %H:%M")  # noqa: DTZ007
    except ValueError:
        return None
