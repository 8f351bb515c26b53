import itertools
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType

from incidents.models import Incident
from practices.service_level import definitions
from practices.service_level.models import Agreement, BusinessCalendar

from .base import APIContract

NAMES = itertools.count(1)


def calendar(request):
    return definitions.save_calendar(
        None,
        {"name": f"Office hours {next(NAMES)}", "time_zone": "Europe/Berlin", "always_open": True},
        request.getfixturevalue("admin_user"),
    )


class TestBusinessCalendarContract(APIContract):
    model = BusinessCalendar
    staff_only = True  # end users are refused the whole type
    endpoint = "/api/v1/business-calendars/"
    # Staff read calendars; administrators change them.
    staff = "admin_user"
    bad_field = ("time_zone", "Mars/Olympus_Mons")
    patch_data = {"name": "Head office hours"}
    patch_journal_field = "name"

    def create_data(self, request):
        return {
            "name": "Support hours",
            "time_zone": "Europe/Berlin",
            "working_periods": [
                {"weekday": day, "start": "08:00", "end": "18:00"} for day in range(5)
            ],
        }

    def make(self, request):
        return calendar(request)

    # The outsider is the default: bob, an end user (definitions are read by staff).


class TestAgreementContract(APIContract):
    model = Agreement
    staff_only = True  # end users are refused the whole type
    endpoint = "/api/v1/sla-agreements/"
    # Staff read agreements; administrators change them.
    staff = "admin_user"
    bad_field = ("kind", "xla")
    patch_data = {"description": "Priority 1 and 2 incidents."}
    patch_journal_field = "description"

    def create_data(self, request):
        return {
            "name": "Incidents P1",
            "record_type": "incidents.incident",
            "priorities": "1",
            "targets": [
                {
                    "name": "Resolve in 4h",
                    "metric": "resolution",
                    "duration": "04:00:00",
                    "calendar": calendar(request).pk,
                }
            ],
        }

    def make(self, request):
        return definitions.save_agreement(
            None,
            {
                "name": f"Incidents {next(NAMES)}",
                "record_type": ContentType.objects.get_for_model(Incident),
                "targets": [
                    {
                        "name": "Resolve in 8h",
                        "metric": "resolution",
                        "duration": timedelta(hours=8),
                        "calendar": calendar(request),
                    }
                ],
            },
            request.getfixturevalue("admin_user"),
        )

    # The outsider is the default: bob, an end user (definitions are read by staff).
