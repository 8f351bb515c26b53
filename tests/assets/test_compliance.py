"""Software licence compliance: entitlements from currently valid licences against
installations on non-retired hardware, in a fixed number of queries."""

import pytest
from django.core.exceptions import ValidationError

from cmdb.models import CIClass, Status
from practices.assets import compliance, services
from tests.factories import ci

from .helpers import days, install, licence, server, software

pytestmark = pytest.mark.django_db


def by_name():
    return {row.software.name: row for row in compliance.report()}


def test_over_under_and_compliant(agent):
    office, acrobat, visio = software("Office"), software("Acrobat"), software("Visio")
    hosts = [server(f"srv-{n}") for n in range(4)]
    install(office, *hosts[:2])
    install(acrobat, *hosts)
    install(visio, *hosts[:3])
    licence(agent, office, 5)
    licence(agent, acrobat, 1)
    licence(agent, acrobat, 2)
    licence(agent, visio, 3)
    rows = by_name()
    assert {
        n: (r.entitlements, r.installations, r.difference, r.status) for n, r in rows.items()
    } == {
        "Acrobat": (3, 4, -1, "under_licensed"),
        "Office": (5, 2, 3, "over_licensed"),
        "Visio": (3, 3, 0, "compliant"),
    }
    assert compliance.summary(list(rows.values())) == {
        "over_licensed": 1,
        "under_licensed": 1,
        "compliant": 1,
    }


def test_retired_hardware_and_non_hardware_targets_are_not_counted(agent):
    office = software("Office")
    live, retired = server("srv-1"), server("srv-2", status=Status.RETIRED)
    app = ci("portal", "application")
    install(office, live, retired, app)
    licence(agent, office, 1)
    assert by_name()["Office"].installations == 1
    assert by_name()["Office"].status == "compliant"


def test_virtual_machines_and_other_hardware_classes_count(agent):
    office = software("Office")
    install(office, server("srv-1"), ci("vm-1", "virtual_machine", attributes={"hostname": "vm-1"}))
    assert by_name()["Office"].installations == 2


def test_only_licences_valid_today_are_entitlements(agent):
    office = software("Office")
    install(office, server("srv-1"))
    licence(agent, office, 10, valid_from=days(-400), valid_until=days(-1))
    licence(agent, office, 7, valid_from=days(1))
    licence(agent, office, 2, valid_from=days(-10), valid_until=days(0))
    row = by_name()["Office"]
    assert (row.entitlements, row.status) == (2, "over_licensed")


def test_installed_software_without_licences_is_under_licensed():
    install(software("Shareware"), server("srv-1"))
    software("Unused and unlicensed")
    rows = by_name()
    assert list(rows) == ["Shareware"]
    assert (rows["Shareware"].entitlements, rows["Shareware"].status) == (0, "under_licensed")


def test_a_subclass_of_software_is_software(agent):
    parent = CIClass.objects.get(key="software")
    database = CIClass.objects.create(key="db_software", name="Database software", parent=parent)
    product = ci("PostgreSQL", "db_software", attributes={"publisher": "PGDG", "product": "pg"})
    assert not database.is_software
    install(product, server("srv-1"))
    licence(agent, product, 1)
    assert by_name()["PostgreSQL"].status == "compliant"


def test_a_licence_is_for_software_only(agent):
    with pytest.raises(ValidationError) as error:
        licence(agent, server("srv-1"), 1)
    assert "software" in error.value.message_dict


def test_a_licence_change_is_recorded(agent):
    entitlement = licence(agent, software("Office"), 1)
    services.update_licence(entitlement, agent, {"quantity": 4})
    entitlement.refresh_from_db()
    assert entitlement.quantity == 4


def test_the_report_costs_the_same_whatever_its_size(agent, django_assert_num_queries):
    hosts = [server(f"srv-{n}") for n in range(3)]
    first = software("Product 0")
    install(first, *hosts)
    licence(agent, first, 1)
    with django_assert_num_queries(3):
        assert len(compliance.report()) == 1
    for n in range(1, 8):
        product = software(f"Product {n}")
        install(product, *hosts[: n % 3 + 1])
        licence(agent, product, n)
        licence(agent, product, 1, valid_until=days(-5))
    with django_assert_num_queries(3):
        assert len(compliance.report()) == 8
