"""Request guards every view relies on, applied once at the edge."""

from django.http import QueryDict
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

#: Where the API lives: its clients are told exactly which parameter is wrong.
API_PREFIX = "/api/"

NUL = "\x00"
NUL_MESSAGE = "Null characters are not allowed."


def _has_nul(params: QueryDict) -> list[str]:
    """The parameters whose name or a value holds a NUL character."""
    return [
        key for key, values in params.lists() if NUL in key or any(NUL in value for value in values)
    ]


class NulQueryMiddleware:
    """A NUL character in the query string never reaches a view.

    PostgreSQL cannot hold one, so a view passing ``?q=%00`` on to the database failed with a
    500. Through the API it is a 400 naming each parameter; on the screens the NUL characters
    are dropped (as the search screens always did), so the page answers for what is left.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = request.META.get("QUERY_STRING", "")
        if "%00" in raw or NUL in raw:
            bad = _has_nul(request.GET)
            if bad and request.path_info.startswith(API_PREFIX):
                return self._refuse({key.replace(NUL, "\\0"): [NUL_MESSAGE] for key in bad})
            if bad:
                self._drop_nul(request)
        return self.get_response(request)

    @staticmethod
    def _refuse(errors: dict) -> Response:
        """A 400 shaped like every other API validation error (``{field: [message]}``)."""
        response = Response(errors, status=400)
        response.accepted_renderer = JSONRenderer()
        response.accepted_media_type = "application/json"
        response.renderer_context = {}
        return response.render()

    @staticmethod
    def _drop_nul(request) -> None:
        clean = QueryDict(mutable=True)
        for key, values in request.GET.lists():
            clean.setlist(key.replace(NUL, ""), [value.replace(NUL, "") for value in values])
        clean._mutable = False
        request.GET = clean
        request.META["QUERY_STRING"] = clean.urlencode()
