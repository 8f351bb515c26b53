"""The request being served, for events recorded where no request is passed (signals of
role and membership changes): its signed-in user acted, from its address."""

from contextvars import ContextVar

_request: ContextVar = ContextVar("itsm_audit_request", default=None)


def current_request():
    return _request.get()


class AuditContextMiddleware:
    """Remembers the request while it is served (a context variable: safe with threads
    and async)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
