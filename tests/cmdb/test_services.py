"""CIs against their classes: attribute checking, identification keys, history."""

import pytest
from django.core.exceptions import ValidationError

from cmdb import services
from cmdb.models import AttributeDefinition, CIClass, CIKey, ConfigurationItem, RelationshipType
from itsm.core.models import JournalEntry
from itsm.core.services import StaleVersion

pytestmark = pytest.mark.django_db


def server(actor, hostname="db01", **attributes):
    return services.create_ci(
        actor,
        ci_class=CIClass.objects.get(key="server"),
        name=hostname,
        attributes={"hostname": hostname, "domain": "corp.example", **attributes},
    )


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict if hasattr(excinfo.value, "error_dict") else {}


def test_standard_classes_inherit_attributes_and_rules():
    from cmdb.attributes import Schemas

    schema = Schemas().get("server")
    assert [c.key for c in schema.chain] == ["ci", "hardware", "server"]
    assert {"serial_number", "manufacturer", "hostname", "memory_gb"} <= set(schema.definitions)
    hardware = CIClass.objects.get(key="hardware")
    assert (hardware.pk, ("serial_number",)) in schema.rules
    assert (CIClass.objects.get(key="server").pk, ("hostname", "domain")) in schema.rules


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("cpu_count", "eight", "A whole number expected."),
        ("cpu_count", "2.5", "A whole number expected."),
        ("memory_gb", "lots", "A number expected."),
        ("ip_address", "10.0.0.300", "An IPv4 or IPv6 address expected."),
        ("colour", "blue", "Server has no attribute colour."),
    ],
)
def test_bad_attribute_values_are_refused_naming_the_attribute(agent, attribute, value, message):
    with pytest.raises(ValidationError) as excinfo:
        server(agent, **{attribute: value})
    assert excinfo.value.message_dict == {f"attributes.{attribute}": [message]}
    assert not ConfigurationItem.objects.exists()


def test_values_are_stored_as_their_type(agent):
    ci = server(agent, cpu_count="8", memory_gb="15.5", ip_address="10.0.0.7")
    ci.refresh_from_db()
    assert ci.attributes["cpu_count"] == 8
    assert ci.attributes["memory_gb"] == 15.5
    assert ci.attributes["ip_address"] == "10.0.0.7"


def test_required_attribute(agent):
    with pytest.raises(ValidationError) as excinfo:
        services.create_ci(agent, ci_class=CIClass.objects.get(key="server"), name="x")
    assert "attributes.hostname" in excinfo.value.message_dict


def test_choice_attribute(agent):
    ci_class = CIClass.objects.get(key="database")
    with pytest.raises(ValidationError) as excinfo:
        services.create_ci(agent, ci_class=ci_class, name="erp", attributes={"engine": "dbase"})
    assert "One of: postgresql" in excinfo.value.message_dict["attributes.engine"][0]


def test_unique_attribute_across_subclasses(agent):
    server(agent, "a", serial_number="SN-1")
    with pytest.raises(ValidationError) as excinfo:
        services.create_ci(
            agent,
            ci_class=CIClass.objects.get(key="storage"),
            name="array",
            attributes={"serial_number": " sn-1 "},
        )
    assert "already has this serial number" in str(excinfo.value)
    assert ConfigurationItem.objects.count() == 1


def test_identification_rule_host_and_domain(agent):
    server(agent, "db01")
    with pytest.raises(ValidationError) as excinfo:
        server(agent, "DB01")
    assert "host name and domain" in str(excinfo.value)
    # Another domain is another server.
    services.create_ci(
        agent,
        ci_class=CIClass.objects.get(key="server"),
        name="db01",
        attributes={"hostname": "db01", "domain": "lab.example"},
    )
    assert ConfigurationItem.objects.count() == 2


def test_update_records_history_with_old_and_new(agent):
    ci = server(agent, cpu_count=4)
    services.update_ci(ci, agent, {"status": "maintenance", "attributes": {"cpu_count": 8}})
    entry = JournalEntry.objects.for_record(ci).filter(kind="fields").get()
    assert entry.actor == agent
    assert entry.data == {"status": ["Live", "Maintenance"], "attributes.cpu_count": [4, 8]}
    # Removing an attribute is a change too; an update that changes nothing is not.
    services.update_ci(ci, agent, {"attributes": {"cpu_count": None}})
    services.update_ci(ci, agent, {"status": "maintenance"})
    entries = list(JournalEntry.objects.for_record(ci).filter(kind="fields"))
    assert len(entries) == 2
    assert entries[1].data == {"attributes.cpu_count": [8, None]}
    ci.refresh_from_db()
    assert ci.version == 3


def test_update_refuses_stale_version(agent):
    ci = server(agent)
    services.update_ci(ci, agent, {"description": "first"}, expected_version=1)
    with pytest.raises(StaleVersion):
        services.update_ci(ci, agent, {"description": "second"}, expected_version=1)


def test_changed_identity_moves_the_keys(agent):
    ci = server(agent, "db01")
    services.update_ci(ci, agent, {"attributes": {"hostname": "db02"}})
    assert set(CIKey.objects.filter(ci=ci).values_list("value", flat=True)) == {"db02|corp.example"}
    server(agent, "db01")  # the old identity is free again


def test_relationships_are_in_both_histories(agent):
    app = services.create_ci(agent, ci_class=CIClass.objects.get(key="application"), name="ERP")
    host = server(agent)
    runs_on = RelationshipType.objects.get(key="runs_on")
    relationship = services.relate(agent, app, runs_on, host)
    with pytest.raises(ValidationError) as excinfo:
        services.relate(agent, app, runs_on, host)
    assert "already runs on" in str(excinfo.value)
    with pytest.raises(ValidationError):
        services.relate(agent, app, runs_on, app)
    services.unrelate(agent, relationship)
    app_history = [e.body for e in services.history(app)]
    host_history = [e.body for e in services.history(host)]
    assert app_history[:2] == ["Relationship removed: runs on db01", "Related: runs on db01"]
    assert host_history[:2] == ["Relationship removed: hosts ERP", "Related: hosts ERP"]


def test_administrators_define_attributes_that_are_checked(agent):
    ci_class = CIClass.objects.create(
        key="printer", name="Printer", parent=CIClass.objects.get(key="hardware")
    )
    definition = AttributeDefinition(ci_class=ci_class, key="serial_number", label="Serial")
    with pytest.raises(ValidationError) as excinfo:
        definition.clean()
    assert "Hardware already defines serial_number" in str(excinfo.value)
    AttributeDefinition.objects.create(
        ci_class=ci_class, key="pages_per_minute", label="Pages per minute", type="integer"
    )
    with pytest.raises(ValidationError):
        services.create_ci(
            agent, ci_class=ci_class, name="prn", attributes={"pages_per_minute": "fast"}
        )
    ci = services.create_ci(
        agent,
        ci_class=ci_class,
        name="prn",
        attributes={"pages_per_minute": "40", "serial_number": "P-1"},
    )
    assert ci.attributes == {"pages_per_minute": 40, "serial_number": "P-1"}


def test_class_rules_must_name_attributes():
    ci_class = CIClass.objects.get(key="server")
    ci_class.identification_rules = [["hostname", "nope"]]
    with pytest.raises(ValidationError) as excinfo:
        ci_class.clean()
    assert "nope" in str(excinfo.value)
    ci_class.identification_rules = "serial"
    with pytest.raises(ValidationError):
        ci_class.clean()
    hardware = CIClass.objects.get(key="hardware")
    hardware.parent = ci_class
    with pytest.raises(ValidationError) as excinfo:
        hardware.clean()
    assert "below itself" in str(excinfo.value)
