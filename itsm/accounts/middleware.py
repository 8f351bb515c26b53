import zoneinfo

from django.utils import timezone

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
