"""Impact analysis: which CIs and services an outage reaches, through any depth and any
cycle, following the way each relationship type spreads an outage."""

import pytest

from cmdb import services
from cmdb.impact import DEPENDENCIES, IMPACT, analyse, neighbourhood, walk
from cmdb.models import CIClass, RelationshipType
from tests.factories import ci

pytestmark = pytest.mark.django_db


def relate(source, key, target):
    return services.relate(None, source, RelationshipType.objects.get(key=key), target)


@pytest.fixture
def estate(db):
    """mail service depends on the mail app, which runs on two VMs on one hypervisor host;
    the host sits in a rack (contains) and connects to a switch, which connects back to a
    second switch (a cycle); the ERP service depends on the ERP app on the same host."""
    made = {
        "mail": ci("E-mail", "business_service"),
        "erp": ci("ERP", "business_service"),
        "mail_app": ci("Exchange", "application"),
        "erp_app": ci("SAP", "application"),
        "vm1": ci("mail-vm-1", "virtual_machine"),
        "vm2": ci("mail-vm-2", "virtual_machine"),
        "host": ci("esx-01", "server"),
        "rack": ci("rack-a1", "hardware"),
        "sw1": ci("sw-core-1", "network_device"),
        "sw2": ci("sw-core-2", "network_device"),
        "doc": ci("Runbook", "document"),
    }
    relate(made["mail"], "depends_on", made["mail_app"])
    relate(made["erp"], "depends_on", made["erp_app"])
    relate(made["mail_app"], "runs_on", made["vm1"])
    relate(made["mail_app"], "runs_on", made["vm2"])
    relate(made["vm1"], "runs_on", made["host"])
    relate(made["vm2"], "runs_on", made["host"])
    relate(made["erp_app"], "runs_on", made["host"])
    relate(made["rack"], "contains", made["host"])
    relate(made["host"], "connects_to", made["sw1"])
    relate(made["sw1"], "connects_to", made["sw2"])
    relate(made["sw2"], "connects_to", made["sw1"])
    return made


def names(reached, estate):
    by_id = {c.pk: key for key, c in estate.items()}
    return {by_id[r.ci_id]: r.depth for r in reached}


def test_an_outage_travels_up_to_the_services(estate):
    reached = names(walk(estate["host"].pk, IMPACT), estate)
    # The switches the host connects to are not affected by its outage.
    assert reached == {"vm1": 1, "vm2": 1, "erp_app": 1, "mail_app": 2, "erp": 2, "mail": 3}


def test_an_outage_goes_round_a_cycle_once(estate):
    reached = names(walk(estate["sw1"].pk, IMPACT), estate)
    assert reached == {
        "host": 1,
        "sw2": 1,
        "vm1": 2,
        "vm2": 2,
        "erp_app": 2,
        "mail_app": 3,
        "erp": 3,
        "mail": 4,
    }


def test_services_affected_and_the_path(estate):
    analysis = analyse(estate["host"], IMPACT)
    assert {s.name for s in analysis.services} == {"E-mail", "ERP"}
    rows = {item.name: analysis.describe(rel) for _, item, rel in analysis.rows()}
    assert rows["Exchange"] in {"Exchange runs on mail-vm-1", "Exchange runs on mail-vm-2"}
    assert rows["E-mail"] == "E-mail depends on Exchange"


def test_a_contained_part_is_affected_by_its_container(estate):
    reached = names(walk(estate["rack"].pk, IMPACT), estate)
    assert reached["host"] == 1 and reached["mail"] == 4


def test_an_application_outage_does_not_take_down_its_host(estate):
    assert names(walk(estate["mail_app"].pk, IMPACT), estate) == {"mail": 1}


def test_dependencies_walk_the_other_way(estate):
    reached = names(walk(estate["mail"].pk, DEPENDENCIES), estate)
    assert reached == {
        "mail_app": 1,
        "vm1": 2,
        "vm2": 2,
        "host": 3,
        "rack": 4,
        "sw1": 4,
        "sw2": 5,
    }


def test_depth_limit(estate):
    assert names(walk(estate["sw1"].pk, IMPACT, 1), estate) == {"host": 1, "sw2": 1}
    assert names(walk(estate["sw1"].pk, IMPACT, 2), estate) == {
        "host": 1,
        "sw2": 1,
        "vm1": 2,
        "vm2": 2,
        "erp_app": 2,
    }


def test_long_cycle_ends():
    ring = [ci(f"node-{i}", "application") for i in range(30)]
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        relate(a, "depends_on", b)
    reached = walk(ring[0].pk, IMPACT)
    assert len(reached) == 29
    assert max(r.depth for r in reached) == 29
    assert len(walk(ring[0].pk, IMPACT, 3)) == 3


def test_isolated_ci(db):
    assert walk(ci("alone", "document").pk, IMPACT) == []


def test_relationship_types_that_do_not_spread(estate):
    quiet = RelationshipType.objects.create(
        key="documented_by", name="documented by", reverse_name="documents", outage_spreads="none"
    )
    services.relate(None, estate["host"], quiet, estate["doc"])
    assert "doc" not in names(walk(estate["host"].pk, IMPACT), estate)
    graph = neighbourhood(estate["host"], depth=1)
    assert "Runbook" in {n.name for n in graph.nodes}


def test_neighbourhood_for_the_map(estate, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        graph = neighbourhood(estate["mail"], depth=2)
    assert {n.name for n in graph.nodes} == {"E-mail", "Exchange", "mail-vm-1", "mail-vm-2"}
    assert graph.depth[estate["mail"].pk] == 0
    assert len(graph.edges) == 3
    small = neighbourhood(estate["host"], depth=4, limit=3)
    assert small.truncated and len(small.nodes) == 3


def test_query_count_does_not_grow_with_the_graph(estate, django_assert_max_num_queries):
    for i in range(20):
        relate(ci(f"extra-{i}", "application"), "runs_on", estate["vm1"])
    with django_assert_max_num_queries(4):
        analysis = analyse(estate["host"], IMPACT)
        list(analysis.rows())
        analysis.services  # noqa: B018
    assert len(analysis.reached) == 26


def test_service_class_flag():
    assert CIClass.objects.get(key="business_service").is_service


def test_demo_estate(priority_matrix, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    from cmdb.models import ConfigurationItem

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", verbosity=0)
    host = ConfigurationItem.objects.get(name="esx-ber-01")
    assert {s.name for s in analyse(host, IMPACT).services} == {"E-mail", "ERP"}
    storage = ConfigurationItem.objects.get(name="san-ber-01")
    assert {s.name for s in analyse(storage, IMPACT).services} == {"E-mail", "ERP"}
    switch = ConfigurationItem.objects.get(name="sw-core-ber-1")
    assert {s.name for s in analyse(switch, IMPACT).services} == {
        "E-mail",
        "ERP",
        "Remote access (VPN)",
        "Office Wi-Fi",
    }
