import zoneinfo

from django.utils import timezone
from django.utils.translation import gettext

from itsm.core import formats


class UserTimeZoneMiddleware:
    """Show times in the signed-in user's time zone (they are stored in UTC), and dates
    in forms in their date format (``itsm.core.formats``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone, date_format = None, None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            date_format = getattr(user, "date_format", None)
        if user is not None and user.is_authenticated and user.time_zone:
            try:
                zone = zoneinfo.ZoneInfo(user.time_zone)
            except zoneinfo.ZoneInfoNotFoundError:
                zone = None
        # Only for this request: the next one (or a task run in this thread) starts in UTC.
        with timezone.override(zone), formats.override(date_format):
            return self.get_response(request)


class TwoFactorMiddleware:
    """Two-factor sign-in where it is required (``TWO_FACTOR_REQUIRED``): a signed-in person
    of the required set whose session is not verified by a second factor (or by the identity
    provider: ``itsm_second_factor == "idp"``) is sent to ``/me/two-factor/`` before any
    other page, to set it up or to confirm this session with a code. The admin site asks
    it of every staff member (unless the setting is "none"), and its own sign-in page is
    ours (``/login/``, which has the second step). API requests with a token are not
    signed in here (DRF authenticates them) and pass."""

    #: Reachable before the second factor: setting it up, signing out, static files (and the
    #: scripts' texts: /jsi18n/).
    EXEMPT_PREFIXES = ("/me/two-factor/", "/logout/", "/static/", "/favicon", "/login/", "/jsi18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self._refusal(request) or self.get_response(request)

    def _refusal(self, request):
        from django.http import JsonResponse
        from django.shortcuts import redirect
        from django.urls import reverse
        from django.utils.http import urlencode

        from .services import second_factor_verified, two_factor_policy, two_factor_required

        path = request.path_info
        if path.startswith("/admin/login/"):
            # The admin's password-only form would skip the second step.
            target = request.GET.get("next") or "/admin/"
            return redirect(f"{reverse('login')}?{urlencode({'next': target})}")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or path.startswith(self.EXEMPT_PREFIXES):
            return None
        needed = two_factor_required(user) or (
            path.startswith("/admin/") and user.is_staff and two_factor_policy() != "none"
        )
        if not needed or second_factor_verified(request):
            return None
        message = gettext("Set up two-factor sign-in, or confirm this session with a code, first.")
        if path.startswith("/api/"):
            return JsonResponse({"detail": message, "url": reverse("two-factor")}, status=403)
        return redirect(f"{reverse('two-factor')}?{urlencode({'next': request.get_full_path()})}")


class AttemptReleaseMiddleware:
    """The end of a sign-in attempt counted before its check (``itsm.accounts.lockout``): if
    nothing reported it wrong, it was right and its count is given back. Sits just before
    django-axes' middleware, which answers locked-out attempts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from . import lockout

        response = self.get_response(request)
        lockout.release(request)
        return response
