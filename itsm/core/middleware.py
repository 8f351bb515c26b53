"""Request guards every view relies on, applied once at the edge (``RequestGuardMiddleware``).

- A body larger than DATA_UPLOAD_MAX_REQUEST_BYTES is refused with a 413 from its
  Content-Length, before a byte of it is read; one that grows past it while its files are
  received is stopped by the upload handler (``itsm.core.uploads``) and answered here.
- More files than DATA_UPLOAD_MAX_NUMBER_FILES, or fields than DATA_UPLOAD_MAX_NUMBER_FIELDS,
  in one form: a 400 naming the limit.
- NUL and the other control characters (C0 but tab, line feed and carriage return; DEL)
  are refused with a 400 naming where they were: in the URL's path, a query parameter, a
  form field (its name or its value), or a header the platform reads. JSON bodies are checked by the API's
  parser (``itsm.api.parsers``). PostgreSQL holds no NUL (a 500 before), and nothing a person
  types holds the others.

Through the API the answer is JSON shaped like every other validation error
(``{field: [message]}``, or ``{"detail": message}``); on the screens it is a short text.
"""

import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext, gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

#: Where the API lives: its clients are told exactly which parameter is wrong.
API_PREFIX = "/api/"

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = gettext_lazy("Null and other control characters are not allowed.")
#: The request headers the platform reads as values.
HEADERS = {
    "Idempotency-Key": "HTTP_IDEMPOTENCY_KEY",
    "If-Match": "HTTP_IF_MATCH",
    "If-None-Match": "HTTP_IF_NONE_MATCH",
}
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def has_control(text: str) -> bool:
    return bool(CONTROL.search(text))


def shown(name: str) -> str:
    """A parameter's name as it can be shown back: its control characters escaped."""
    return CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", name)


def _bad_fields(params) -> list[str]:
    """The parameters whose name or a value holds a control character."""
    return [
        shown(key)
        for key, values in params.lists()
        if has_control(key) or any(isinstance(v, str) and has_control(v) for v in values)
    ]


def too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_REQUEST_BYTES
    return gettext(
        "The request is larger than the limit of %(limit)s bytes (%(mib)s MiB) "
        "for one request; send fewer or smaller files."
    ) % {"limit": limit, "mib": limit // (1024 * 1024)}


def too_many_message(exception) -> str:
    if isinstance(exception, TooManyFilesSent):
        return gettext("At most %(count)s files can be sent in one request.") % {
            "count": settings.DATA_UPLOAD_MAX_NUMBER_FILES
        }
    return gettext("At most %(count)s fields can be sent in one request.") % {
        "count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    }


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = (
            self._check_length(request)
            or self._check_path(request)
            or self._check_query(request)
            or self._check_headers(request)
            or self._check_form(request)
        )
        return refusal or self.get_response(request)

    def process_exception(self, request, exception):
        """Limits passed while a view (the API's parsers) read the body."""
        return self._refuse_limit(request, exception)

    # The checks ----------------------------------------------------------------------

    def _check_length(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._answer(
                request, {"detail": gettext("Content-Length is not a number.")}, 400
            )
        if length > settings.DATA_UPLOAD_MAX_REQUEST_BYTES:
            return self._answer(request, {"detail": too_large_message()}, 413)
        return None

    def _check_path(self, request):
        if has_control(request.path_info):
            return self._answer(request, {"path": [CONTROL_MESSAGE]}, 400)
        return None

    def _check_query(self, request):
        raw = request.META.get("QUERY_STRING", "")
        if "%" not in raw and not has_control(raw):
            return None
        bad = _bad_fields(request.GET)
        return self._answer(request, {key: [CONTROL_MESSAGE] for key in bad}, 400) if bad else None

    def _check_headers(self, request):
        bad = [name for name, key in HEADERS.items() if has_control(request.META.get(key, ""))]
        return (
            self._answer(request, {name: [CONTROL_MESSAGE] for name in bad}, 400) if bad else None
        )

    def _check_form(self, request):
        """A form's fields, parsed once here (the views and DRF then use what was parsed)."""
        if request.method != "POST" or not request.content_type.startswith(FORMS):
            return None
        try:
            fields, files = request.POST, request.FILES
        except (RequestDataTooBig, TooManyFilesSent, TooManyFieldsSent) as exception:
            return self._refuse_limit(request, exception)
        except (MultiPartParserError, UnreadablePostError):
            return None  # a malformed body: the view answers it as it always did
        bad = _bad_fields(fields) + [shown(key) for key in files if has_control(key)]
        return self._answer(request, {key: [CONTROL_MESSAGE] for key in bad}, 400) if bad else None

    # Answers -------------------------------------------------------------------------

    def _refuse_limit(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return self._answer(request, {"detail": too_large_message()}, 413)
        if isinstance(exception, (TooManyFilesSent, TooManyFieldsSent)):
            return self._answer(request, {"detail": too_many_message(exception)}, 400)
        return None

    @staticmethod
    def _answer(request, errors: dict, status: int):
        if request.path_info.startswith(API_PREFIX):
            response = Response(errors, status=status)
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
            response.renderer_context = {}
            return response.render()
        lines = [
            f"{key}: {' '.join(map(str, value)) if isinstance(value, list) else value}"
            if key != "detail"
            else str(value)
            for key, value in errors.items()
        ]
        return HttpResponse(
            "\n".join(lines), status=status, content_type="text/plain; charset=utf-8"
        )
