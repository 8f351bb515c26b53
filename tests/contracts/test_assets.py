import itertools
from datetime import date

from cmdb.models import CIClass, ConfigurationItem
from practices.assets import services
from practices.assets.models import Asset, Contract, Licence, Supplier

from .base import APIContract

SERIAL = itertools.count(1)


def supplier(request):
    return services.create_supplier(
        request.getfixturevalue("agent"), {"name": f"Supplier {next(SERIAL)}"}
    )


def software(name):
    return ConfigurationItem.objects.create(
        name=name,
        ci_class=CIClass.objects.get(key="software"),
        attributes={"publisher": "ACME", "product": name},
    )


class TestAssetContract(APIContract):
    model = Asset
    list_screen = "/assets/"
    page_screen = True
    endpoint = "/api/v1/assets/"
    lookup = "asset_tag"
    bad_field = ("state", "lost")
    patch_data = {"notes": "Keyboard replaced."}
    patch_journal_field = "notes"

    def listed(self, response):
        # Rows name an asset by its tag (an end user's rows carry no id).
        return {str(row.get("asset_tag")) for row in self.rows(response)}

    def create_data(self, request):
        return {"asset_tag": "LT-NEW", "model": "ThinkPad T14", "serial_number": "PF-1"}

    def make(self, request):
        # Assigned to alice: staff and alice see it, bob does not.
        return services.create_asset(
            request.getfixturevalue("agent"),
            {
                "asset_tag": f"LT-{next(SERIAL):04d}",
                "model": "ThinkPad T14",
                "assigned_to": request.getfixturevalue("alice"),
            },
        )


class TestSupplierContract(APIContract):
    model = Supplier
    staff_only = True  # end users are refused the whole type
    endpoint = "/api/v1/suppliers/"
    bad_field = ("email", "not-an-address")
    patch_data = {"notes": "Framework agreement until 2030."}
    patch_journal_field = "notes"

    def create_data(self, request):
        return {"name": "Lenovo", "email": "sales@lenovo.example.com"}

    def make(self, request):
        return supplier(request)

    # The outsider is the default: bob, an end user (suppliers are for IT staff only).


class TestContractContract(APIContract):
    model = Contract
    list_screen = "/assets/contracts/"
    page_screen = True
    staff_only = True  # end users are refused the whole type
    endpoint = "/api/v1/contracts/"
    bad_field = ("kind", "rental")
    patch_data = {"notes": "Renewal under negotiation."}
    patch_journal_field = "notes"

    def create_data(self, request):
        return {
            "reference": "C-NEW",
            "kind": "support",
            "supplier": supplier(request).pk,
            "start_date": "2025-01-01",
            "end_date": "2027-12-31",
        }

    def make(self, request):
        return services.create_contract(
            request.getfixturevalue("agent"),
            {
                "reference": f"C-{next(SERIAL):04d}",
                "kind": "maintenance",
                "supplier": supplier(request),
                "start_date": date(2025, 1, 1),
                "end_date": date(2026, 12, 31),
            },
        )

    # The outsider is the default: bob, an end user (contracts are for IT staff only).


class TestLicenceContract(APIContract):
    model = Licence
    staff_only = True  # end users are refused the whole type
    endpoint = "/api/v1/licences/"
    bad_field = ("quantity", 0)
    patch_data = {"quantity": 25}
    patch_journal_field = "quantity"

    def create_data(self, request):
        return {"software": software("Office Suite").pk, "quantity": 10}

    def make(self, request):
        return services.create_licence(
            request.getfixturevalue("agent"),
            {"software": software(f"Editor {next(SERIAL)}"), "quantity": 5},
        )

    # The outsider is the default: bob, an end user (licences are for IT staff only).
