"""The language of the screens: the signed-in person's choice (``User.language``), else
the browser's (``Accept-Language``, read by Django's ``LocaleMiddleware``), else English.

Dates and numbers follow the active language through Django's format modules
(``FORMAT_MODULE_PATH``: ``itsm.formats``); a person who chose a date format of their own
(``User.date_format``, ``itsm.core.formats``) sees dates in it whatever the language."""

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise


def user_language(user) -> str | None:
    """The language this person chose, if it is one we ship (else None: the browser's)."""
    if user is None or not user.is_authenticated:
        return None
    chosen = getattr(user, "language", "") or ""
    return chosen if chosen in dict(settings.LANGUAGES) else None


class UserLanguageMiddleware:
    """After authentication: activate the signed-in person's language for this request.
    ``LocaleMiddleware`` (before it) has already activated the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = user_language(getattr(request, "user", None))
        if not chosen:
            return self.get_response(request)
        request.LANGUAGE_CODE = chosen
        # Only for this request: the thread goes back to the browser's language after it.
        with translation.override(chosen):
            response = self.get_response(request)
        # LocaleMiddleware (outside this one) only sets the header when it is missing.
        response.headers.setdefault("Content-Language", chosen)
        return response


# --- sentences the platform stores and sends ---------------------------------------------------


class Said:
    """A sentence the platform writes for people to read later (a journal line, a notice),
    kept as its English message and its values so that each reader reads it in their own
    language: ``said(gettext_noop("Assigned to %(team)s"), team=team.name)``.

    A value may itself be a ``Said`` or a lazy translation (a choice's label): it is kept
    as its message and translated when read; any other value is kept as its text."""

    __slots__ = ("message", "values")

    def __init__(self, message: str, **values):
        self.message = str(message)
        self.values = values

    def render(self) -> str:
        """The sentence in the active language (a translation that does not fit the stored
        values, say one changed since, falls back to the English sentence)."""
        text = translation.gettext(self.message)
        if not self.values:
            return text
        values = {name: _rendered(value) for name, value in self.values.items()}
        for sentence in (text, self.message):
            try:
                return sentence % values
            except (KeyError, ValueError, TypeError):
                continue
        return self.message

    __str__ = render

    def in_english(self) -> str:
        with translation.override("en"):
            return self.render()

    def as_data(self) -> dict:
        """JSON to store (``from_data`` reads it back)."""
        return {"message": self.message, "values": {k: _stored(v) for k, v in self.values.items()}}

    @classmethod
    def from_data(cls, data) -> "Said | None":
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return None
        values = data.get("values")
        values = values if isinstance(values, dict) else {}
        return cls(data["message"], **{k: _loaded(v) for k, v in values.items()})

    def __eq__(self, other):
        return isinstance(other, Said) and self.as_data() == other.as_data()

    def __repr__(self):
        return f"said({self.message!r}, {self.values!r})"


def said(message: str, **values) -> Said:
    """A stored sentence (see ``Said``); mark ``message`` with ``gettext_noop``."""
    return Said(message, **values)


def _lazy_message(value) -> str | None:
    """The message of a ``gettext_lazy`` proxy (a choice's label), else None."""
    if isinstance(value, Promise):
        args = getattr(value, "_args", ())
        if len(args) == 1 and isinstance(args[0], str):
            return args[0]
    return None


def _rendered(value):
    if isinstance(value, Said | Promise):
        return str(value)
    return value


def _stored(value):
    if isinstance(value, Said):
        return value.as_data()
    message = _lazy_message(value)
    if message is not None:
        return {"message": message, "values": {}}
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    return str(value)


def _loaded(value):
    return Said.from_data(value) or value if isinstance(value, dict) else value


def in_language(text, language: str | None) -> str:
    """``text`` (a string, a lazy translation, a ``Said`` or a function of no arguments
    returning one of those) in ``language`` (None: the site's)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        value = text() if callable(text) and not isinstance(text, Promise | Said) else text
        return str(value)
