"""Sign-in throttling and lockout, on django-axes' database handler (shared by every worker).

Every way of proving who one is goes through here: the sign-in page and the admin's (through
``django.contrib.auth.authenticate``), the API token endpoint, the current password asked on
``/me/`` and the second factor's codes. An account name or a client address that failed
``AXES_FAILURE_LIMIT`` times within ``AXES_COOLOFF_TIME`` is refused (HTTP 429) until the
cool-off has passed, the right password included.

Axes checks the count *before* the password and adds the failure *after* it, so many
concurrent guesses would all pass the check. :class:`LockoutHandler` counts each attempt
first (one atomic increment on the attempt's row) and only then compares the total with the
limit: of any number of concurrent attempts at most the limit's worth are tried. An attempt
that turns out right gives its count back (:func:`release`); a wrong one keeps it.
"""

import ipaddress
import logging
from datetime import timedelta

from axes.conf import settings as axes_settings
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import router, transaction
from django.db.models import F
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

log = logging.getLogger(__name__)


def _http(request):
    """The Django request behind a DRF ``Request`` (axes sets its flags on the one it is
    given; the middleware reads them on Django's)."""
    return getattr(request, "_request", request)


def _pending(request) -> list:
    """The attempts of this request counted before their check and not yet known wrong."""
    http = _http(request)
    if not hasattr(http, "itsm_attempts"):
        http.itsm_attempts = []
    return http.itsm_attempts


# --- the client's address -------------------------------------------------------------------


def _is_trusted_proxy(address: str) -> bool:
    trusted = getattr(settings, "TRUSTED_PROXIES", None) or []
    if not trusted:
        return True  # a count without a list: every hop of the count is trusted
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request) -> str | None:
    """The client's address: ``REMOTE_ADDR``, unless ``TRUSTED_PROXY_COUNT`` reverse proxies
    stand in front of us. Each of them appends the address it was reached from to
    ``X-Forwarded-For``, so the client is the entry that many hops from the right (the last
    hop being ``REMOTE_ADDR``); whatever a client wrote further left is ignored. With
    ``TRUSTED_PROXIES`` a hop is believed only if it comes from one of those addresses or
    networks. Without a configured proxy the header is never read (forging it changes
    nothing)."""
    remote = request.META.get("REMOTE_ADDR")
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0 or not remote:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    chain = [hop.strip() for hop in forwarded.split(",") if hop.strip()] + [remote]
    client = remote
    # Walk from the right over the trusted proxies: each names the hop before it.
    for _ in range(count):
        if len(chain) < 2 or not _is_trusted_proxy(chain[-1]):
            break
        chain.pop()
        client = chain[-1]
    try:
        return str(ipaddress.ip_address(client))
    except ValueError:
        return remote  # garbage in the header: the proxy's own address


# --- the account name ---------------------------------------------------------------------------


def client_username(request, credentials=None) -> str | None:
    """The account name an attempt is counted under: trimmed and in lower case, so that
    ``Alice`` and ``ALICE`` (one account for a directory, which ignores case) share one
    count."""
    field = str(axes_settings.AXES_USERNAME_FORM_FIELD)
    if credentials:
        value = credentials.get(field)
    else:
        value = getattr(request, "data", None) or getattr(request, "POST", {})
        value = value.get(field) if hasattr(value, "get") else None
    if value is None:
        return None
    return str(value).strip().lower()[:255] or None


def lockout_parameters(request_or_attempt, credentials=None) -> list:
    """What an attempt is counted under: its account name and its client address, either
    of which trips the lockout. An attempt without an account name (a single sign-on
    callback) is counted under its address only: all of them under "no name" would make one
    count for the whole world."""
    if hasattr(request_or_attempt, "failures_since_start"):  # an AccessAttempt row
        username = request_or_attempt.username
        address = request_or_attempt.ip_address
    else:
        username = client_username(request_or_attempt, credentials)
        address = getattr(request_or_attempt, "axes_ip_address", None)
    parameters = []
    if username:
        parameters.append("username")
    if address or not parameters:
        parameters.append("ip_address")
    return parameters


# --- counting attempts atomically ------------------------------------------------------------


def _attempt_row(request, username):
    """Add one failure to the attempt's row (created if new), atomically."""
    with transaction.atomic(using=router.db_for_write(AccessAttempt)):
        attempt, created = AccessAttempt.objects.select_for_update().get_or_create(
            username=username,
            ip_address=request.axes_ip_address,
            user_agent=request.axes_user_agent,
            defaults={
                "get_data": "",
                "post_data": "",
                "http_accept": request.axes_http_accept,
                "path_info": request.axes_path_info,
                "failures_since_start": 1,
                "attempt_time": request.axes_attempt_time,
            },
        )
        if not created:
            AccessAttempt.objects.filter(pk=attempt.pk).update(
                failures_since_start=F("failures_since_start") + 1,
                attempt_time=request.axes_attempt_time,
                path_info=request.axes_path_info,
                http_accept=request.axes_http_accept,
            )
    return attempt.pk


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler that counts an attempt before checking it (see the module)."""

    def is_allowed(self, request, credentials=None) -> bool:
        if not super().is_allowed(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        username = get_client_username(request, credentials)
        self.clean_expired_user_attempts(request, credentials)  # past their cool-off
        pk = _attempt_row(request, username)
        if self.get_failures(request, credentials) > get_failure_limit(request, credentials):
            # Over the limit counting the concurrent ones: refused, and it stays counted.
            return False
        # Counted: given back by release() if it turns out right (a request may make more
        # than one attempt: a password and then a code).
        _pending(request).append(pk)
        return True

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        http = _http(request) if request is not None else None
        pending = _pending(request) if request is not None else []
        if not pending:
            super().user_login_failed(sender, credentials, request, **kwargs)
        else:
            # Counted already when it was allowed: keep that count as the failure.
            pending.pop()
            failures = self.get_failures(request, credentials)
            request.axes_failures_since_start = failures
            if failures >= get_failure_limit(request, credentials):
                request.axes_locked_out = True
                request.axes_credentials = credentials
                user_locked_out.send(
                    "axes",
                    request=request,
                    username=get_client_username(request, credentials),
                    ip_address=request.axes_ip_address,
                )
        if http is not None and http is not request and getattr(request, "axes_locked_out", False):
            http.axes_locked_out = True
            http.axes_credentials = getattr(request, "axes_credentials", credentials)

    def user_logged_in(self, sender, request, user, **kwargs):
        _pending(request).clear()  # reset on success removes them with the others
        super().user_logged_in(sender, request, user, **kwargs)


def release(request) -> None:
    """An attempt counted by :meth:`LockoutHandler.is_allowed` turned out right (a password
    before its second factor, a token request): give its count back."""
    pending = _pending(request)
    while pending:
        AccessAttempt.objects.filter(pk=pending.pop(), failures_since_start__gt=0).update(
            failures_since_start=F("failures_since_start") - 1
        )


# --- for the checks that are not a password sign-in ------------------------------------------


def attempt(request, username: str) -> bool:
    """Before checking a second factor's code or a password outside ``authenticate``:
    False if the account or the address is locked out (the refusal is answered with the
    lockout page by the middleware)."""
    if not axes_settings.AXES_ENABLED:
        return True
    credentials = {str(axes_settings.AXES_USERNAME_FORM_FIELD): username}
    if AxesProxyHandler.is_allowed(request, credentials):
        return True
    request.axes_locked_out = True  # refused: not counted again, answered with a 429
    failed(request, username)
    return False


def failed(request, username: str) -> None:
    """A wrong code or password: counts toward the lockout like a wrong sign-in."""
    user_login_failed.send(
        sender=__name__,
        credentials={str(axes_settings.AXES_USERNAME_FORM_FIELD): username},
        request=request,
    )


def is_locked_out(request) -> bool:
    return bool(getattr(_http(request), "axes_locked_out", False))


# --- the answer ---------------------------------------------------------------------------------


def _minutes(delta: timedelta | None) -> int:
    return max(1, int((delta or timedelta(minutes=15)).total_seconds() // 60))


def lockout_response(request, original_response=None, credentials=None):
    """429, the same whether the account exists or not: JSON on the API, a page elsewhere."""
    cool_off = get_cool_off(request)
    minutes = _minutes(cool_off)
    message = ngettext(
        "Too many failed sign-in attempts. Sign-in is paused for this account and address; "
        "try again in %(minutes)s minute.",
        "Too many failed sign-in attempts. Sign-in is paused for this account and address; "
        "try again in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}
    if request.path.startswith("/api/") or "application/json" in request.META.get(
        "HTTP_ACCEPT", ""
    ):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(
            request,
            "registration/locked_out.html",
            {"minutes": minutes, "message": message},
            status=429,
        )
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
