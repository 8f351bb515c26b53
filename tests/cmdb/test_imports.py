"""Import and reconciliation: rows are matched by the identification rules of their
class; importing the same data twice creates nothing new, even twice at once."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cmdb import imports
from cmdb.models import CIKey, ConfigurationItem, DataSource, ImportRun, Relationship
from itsm.core.models import JournalEntry
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def discovery(db):
    return DataSource.objects.create(key="discovery", name="Discovery")


def servers(count, start=0, **extra):
    return [
        {
            "class": "server",
            "name": f"srv{i:03}",
            "attributes": {
                "hostname": f"srv{i:03}",
                "domain": "corp.example",
                "serial_number": f"SN{i:05}",
                "cpu_count": 4,
                **extra,
            },
        }
        for i in range(start, start + count)
    ]


def test_import_creates_then_reimport_changes_nothing(agent, discovery):
    run = imports.run(discovery, servers(5), [], agent)
    assert (run.created, run.updated, run.unchanged, run.failed) == (5, 0, 0, 0)
    assert run.status == ImportRun.Status.APPLIED
    again = imports.run(discovery, servers(5), [], agent)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert ConfigurationItem.objects.count() == 5
    assert {r["action"] for r in again.results} == {"unchanged"}


def test_rows_match_on_any_rule_and_update_in_history(agent, discovery):
    imports.run(discovery, servers(2), [], agent)
    # Renamed host, same serial number: the same server, with a new host name.
    row = servers(1, cpu_count=8)[0]
    row["attributes"]["hostname"] = "srv-renamed"
    row["name"] = "srv-renamed"
    run = imports.run(discovery, [row], [], agent)
    assert (run.created, run.updated) == (0, 1)
    ci = ConfigurationItem.objects.get(attributes__serial_number="SN00000")
    assert ci.name == "srv-renamed" and ci.attributes["cpu_count"] == 8
    entry = JournalEntry.objects.for_record(ci).filter(kind="fields").get()
    assert entry.data["attributes.cpu_count"] == [4, 8]
    assert entry.data["name"] == ["srv000", "srv-renamed"]
    assert entry.actor == agent
    assert "srv-renamed|corp.example" in set(
        CIKey.objects.filter(ci=ci).values_list("value", flat=True)
    )


def test_a_source_writes_only_what_it_is_trusted_for(agent, discovery):
    imports.run(discovery, servers(1), [], agent)
    cmdb_team = DataSource.objects.create(
        key="inventory", name="Inventory", trusted_fields=["status", "cpu_count"]
    )
    row = servers(1, cpu_count=16, operating_system="Debian 13")[0]
    row["status"] = "maintenance"
    run = imports.run(cmdb_team, [row], [], agent)
    ci = ConfigurationItem.objects.get()
    assert ci.status == "maintenance" and ci.attributes["cpu_count"] == 16
    assert "operating_system" not in ci.attributes
    assert run.results[0]["ignored"] == ["attributes.operating_system"]


def test_row_errors_are_reported_and_good_rows_applied(agent, discovery):
    rows = [
        *servers(2),
        {"class": "server", "name": "broken", "attributes": {"hostname": "b", "cpu_count": "x"}},
        {"class": "nope", "name": "x"},
        {"class": "server", "name": "", "attributes": {"hostname": "c"}},
        {"class": "storage", "name": "array", "attributes": {}},
        {"class": "server", "name": "dup", "attributes": {"hostname": "d"}, "status": "gone"},
        {"class": "server", "name": "t", "attributes": {"hostname": "t"}, "owner_team": "Nobody"},
    ]
    run = imports.run(discovery, rows, [], agent)
    assert (run.created, run.failed) == (2, 6)
    errors = {r["row"]: r["errors"] for r in run.results if r["action"] == "error"}
    assert errors[3] == {"attributes.cpu_count": "A whole number expected."}
    assert errors[4] == {"class": "There is no CI class nope."}
    assert errors[5] == {"name": "A CI needs a name."}
    assert "Nothing identifies this storage" in errors[6]["identification"]
    assert "status" in errors[7]
    assert errors[8] == {"owner_team": "There is no team Nobody."}
    assert ConfigurationItem.objects.count() == 2


def test_a_row_matching_two_cis_is_an_error(agent, discovery):
    imports.run(discovery, servers(2), [], agent)
    row = servers(1)[0]
    row["attributes"]["serial_number"] = "SN00001"  # host of one, serial of the other
    run = imports.run(discovery, [row], [], agent)
    assert run.failed == 1
    assert "Matches more than one CI" in run.results[0]["errors"]["identification"]


def test_the_same_ci_twice_in_one_file_is_one_ci(agent, discovery):
    rows = servers(1) + servers(1, cpu_count=8)
    run = imports.run(discovery, rows, [], agent)
    assert ConfigurationItem.objects.count() == 1
    assert ConfigurationItem.objects.get().attributes["cpu_count"] == 8
    assert [r["action"] for r in run.results] == ["create", "update"]


def test_preview_changes_nothing_then_apply(agent, discovery):
    run = imports.preview(discovery, servers(3), [], agent)
    assert run.status == ImportRun.Status.PREVIEW and run.created == 3
    assert not ConfigurationItem.objects.exists()
    assert not JournalEntry.objects.exists()
    applied = imports.apply(run, agent)
    assert applied.pk == run.pk and applied.status == ImportRun.Status.APPLIED
    assert ConfigurationItem.objects.count() == 3
    with pytest.raises(ValidationError):
        imports.apply(applied, agent)


def test_relationships_by_reference(agent, discovery):
    rows = [
        *servers(1),
        {"class": "application", "name": "ERP"},
    ]
    relationships = [
        {
            "source": {"class": "application", "name": "ERP"},
            "type": "runs_on",
            "target": {"class": "server", "hostname": "srv000", "domain": "corp.example"},
        },
        {"source": {"class": "application", "name": "CRM"}, "type": "runs_on", "target": {}},
        {"source": {"class": "application", "name": "ERP"}, "type": "bogus", "target": "x:y"},
    ]
    run = imports.run(discovery, rows, relationships, agent)
    assert run.relationships_created == 1
    errors = [r["errors"] for r in run.results if r["action"] == "error"]
    assert errors[0]["source"] == "No CI matches application:name=CRM."
    assert errors[1]["type"] == "There is no relationship type bogus."
    again = imports.run(discovery, rows, relationships[:1], agent)
    assert again.relationships_created == 0
    assert Relationship.objects.count() == 1
    erp = ConfigurationItem.objects.get(name="ERP")
    assert JournalEntry.objects.for_record(erp).filter(kind="link").count() == 1


CSV = """class,name,status,hostname,domain,attr.serial_number,cpu_count,rel.runs_on
server,esx-01,live,esx-01,corp.example,SN-1,32,
virtual_machine,vm-01,,vm-01,corp.example,,,server:hostname=esx-01;domain=corp.example
application,Payroll,,,,,,virtual_machine:hostname=vm-01;domain=corp.example|server:hostname=esx-01;domain=corp.example
"""


def test_csv_with_relationship_columns(agent, discovery):
    rows, relationships = imports.parse_csv(CSV)
    assert rows[0] == {
        "row": 2,
        "class": "server",
        "name": "esx-01",
        "status": "live",
        "attributes": {
            "hostname": "esx-01",
            "domain": "corp.example",
            "serial_number": "SN-1",
            "cpu_count": "32",
        },
    }
    assert [r["source"] for r in relationships] == [{"row": 3}, {"row": 4}]
    run = imports.run(discovery, rows, relationships, agent)
    assert (run.created, run.failed, run.relationships_created) == (3, 0, 3)
    payroll = ConfigurationItem.objects.get(name="Payroll")
    assert sorted(r.target.name for r in payroll.outgoing_relationships.all()) == [
        "esx-01",
        "vm-01",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,hostname\nx,y\n", "missing: class"),
        ("class,name\nserver,a,extra\n", "Line 2 has more cells"),
    ],
)
def test_bad_csv(text, message):
    with pytest.raises(ValidationError) as excinfo:
        imports.parse_csv(text)
    assert message in str(excinfo.value)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_make_each_ci_once(django_user_model):
    """Two imports of the same 300 servers at the same moment (two connections): each
    server exists once, and every row was either created by one or matched by the other."""
    agent = django_user_model.objects.create(username="importer", role="agent")
    source = DataSource.objects.create(key="discovery", name="Discovery")
    rows = servers(300)
    barrier = threading.Barrier(2)
    runs, failures = [], []

    def work():
        try:
            barrier.wait()
            runs.append(imports.run(source, rows, [], agent))
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert ConfigurationItem.objects.count() == 300
    assert sum(r.created for r in runs) == 300
    assert sum(r.created + r.unchanged for r in runs) == 600


def srv(hostname, serial, **attributes):
    return {
        "class": "server",
        "name": hostname,
        "attributes": {
            "hostname": hostname,
            "domain": "corp",
            "serial_number": serial,
            **attributes,
        },
    }


def test_a_ci_renamed_within_one_file_keeps_only_its_new_keys(agent, discovery):
    imports.run(discovery, [srv("a", "SN1"), srv("b", "SN1")], [], agent)
    ci = ConfigurationItem.objects.get()
    assert ci.name == "b"
    assert set(CIKey.objects.filter(ci=ci).values_list("value", flat=True)) == {"b|corp", "sn1"}
    # Another machine called "a" is a new CI, not the renamed one.
    run = imports.run(discovery, [srv("a", "SN9")], [], agent)
    assert run.created == 1
    assert ConfigurationItem.objects.get(pk=ci.pk).attributes["serial_number"] == "SN1"


def test_an_update_taking_another_cis_identity_is_a_row_error(api_as, agent, discovery):
    imports.run(discovery, [srv("a", "SN1"), srv("b", "SN2")], [], agent)
    payload = {
        "data_source": "discovery",
        "items": [
            {
                "class": "server",
                "name": "b",
                "attributes": {"hostname": "a", "serial_number": "SN2"},
            }
        ],
    }
    for dry_run in (True, False):
        response = api_as(agent).post("/api/v1/imports/", {**payload, "dry_run": dry_run})
        assert response.status_code == 201
        assert response.data["failed"] == 1
        assert (
            "a already has this value."
            in response.data["results"][0]["errors"]["attributes.hostname"]
        )
    assert (
        ConfigurationItem.objects.get(attributes__serial_number="SN2").attributes["hostname"] == "b"
    )


def test_the_same_changed_row_twice_is_one_update(agent, discovery):
    imports.run(discovery, [srv("a", "SN1")], [], agent)
    run = imports.run(discovery, [srv("a", "SN1", cpu_count=4)] * 2, [], agent)
    assert [r["action"] for r in run.results] == ["update", "unchanged"]


def test_too_long_values_are_row_errors_and_the_rest_is_saved(agent, discovery):
    rows = [srv("ok", "SN1"), {**srv("x", "SN2"), "name": "n" * 250}, srv("h" * 600, "SN3")]
    run = imports.run(discovery, rows, [], agent)
    errors = {r["row"]: r["errors"] for r in run.results if r["action"] == "error"}
    assert errors[2] == {"name": "At most 200 characters."}
    assert "attributes.hostname" in errors[3]
    assert run.created == 1 and ImportRun.objects.filter(pk=run.pk).exists()


def test_odd_row_numbers_fall_back_to_the_position(agent, discovery):
    run = imports.run(
        discovery,
        [{**srv("a", "SN1"), "row": [1]}],
        [{"row": {"x": 1}, "source": {"row": [1]}, "type": "runs_on", "target": "server:name=a"}],
        agent,
    )
    assert run.results[0]["row"] == 1 and run.created == 1


@pytest.mark.parametrize("value", ["Infinity", "sNaN", "1e400", "1e5000", "-1e30"])
def test_impossible_numbers_are_row_errors(agent, discovery, value):
    run = imports.run(discovery, [srv("a", "SN1", cpu_count=value)], [], agent)
    assert run.failed == 1
    assert "attributes.cpu_count" in run.results[0]["errors"]


def test_a_newly_required_attribute_does_not_block_other_changes(agent, discovery, admin_user):
    from cmdb.models import AttributeDefinition, CIClass

    imports.run(discovery, [srv("a", "SN1")], [], agent)
    AttributeDefinition.objects.create(
        ci_class=CIClass.objects.get(key="server"), key="rack", label="Rack", required=True
    )
    run = imports.run(discovery, [srv("a", "SN1", cpu_count=8)], [], agent)
    assert run.updated == 1, run.results
    # A new server must still give it.
    assert imports.run(discovery, [srv("z", "SN7")], [], agent).failed == 1


def test_csv_line_numbers_and_repeated_columns():
    rows, _ = imports.parse_csv(
        'class,name,description\nserver,a,"two\nlines"\n\napplication,b,x\n'
    )
    assert [r["row"] for r in rows] == [3, 5]
    with pytest.raises(ValidationError) as excinfo:
        imports.parse_csv("class,name,name\nserver,a,b\n")
    assert "Columns named twice: name" in str(excinfo.value)


def test_a_preview_links_to_no_ci_it_would_create(agent, discovery):
    run = imports.preview(discovery, servers(1), [], agent)
    assert run.results[0]["action"] == "create" and run.results[0]["ci"] is None


def test_references_by_name_where_nothing_identifies_by_name(agent, discovery):
    imports.run(discovery, [srv("db01", "SN1"), {"class": "application", "name": "ERP"}], [], agent)
    run = imports.run(
        discovery,
        [],
        [{"source": "application:ERP", "type": "runs_on", "target": "server:db01"}],
        agent,
    )
    assert run.relationships_created == 1, run.results
    assert Relationship.objects.get().target.name == "db01"
