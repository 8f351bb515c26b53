"""The language of the screens: the signed-in person's choice (``User.language``), else
the browser's (``Accept-Language``, read by Django's ``LocaleMiddleware``), else English.

Dates and numbers follow the active language through Django's format modules
(``FORMAT_MODULE_PATH``: ``itsm.formats``); a person who chose a date format of their own
(``User.date_format``, ``itsm.core.formats``) sees dates in it whatever the language."""

from django.conf import settings
from django.utils import translation


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
