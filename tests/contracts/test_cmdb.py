import itertools

from cmdb import services
from cmdb.models import CIClass, ConfigurationItem

from .base import APIContract

NAMES = itertools.count(1)


class TestConfigurationItemContract(APIContract):
    model = ConfigurationItem
    list_screen = "/cmdb/"
    page_screen = True
    staff_only = True  # end users are refused the whole type
    endpoint = "/api/v1/cis/"
    bad_field = ("status", "gone")
    patch_data = {"description": "The customer relationship management application."}
    patch_journal_field = "description"

    def create_data(self, request):
        return {
            "name": "erp",
            "ci_class": "application",
            "owner_team": request.getfixturevalue("service_desk").pk,
        }

    def make(self, request):
        return services.create_ci(
            request.getfixturevalue("agent"),
            ci_class=CIClass.objects.get(key="application"),
            name=f"crm-{next(NAMES)}",
        )

    # The outsider is the default: bob, an end user (the CMDB is for staff only).
