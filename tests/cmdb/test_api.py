"""The CMDB over the API: who may do what, bad input, query counts, impact, imports."""

import pytest
from rest_framework.test import APIClient

from cmdb import services
from cmdb.models import (
    AttributeDefinition,
    CIClass,
    ConfigurationItem,
    DataSource,
    Relationship,
    RelationshipType,
)
from itsm.core.models import JournalEntry
from tests.factories import ci

pytestmark = pytest.mark.django_db


def make_server(actor, name, **attributes):
    return services.create_ci(
        actor,
        ci_class=CIClass.objects.get(key="server"),
        name=name,
        attributes={"hostname": name, "domain": "corp.example", **attributes},
    )


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cis/",
        "/api/v1/ci-classes/",
        "/api/v1/ci-attributes/",
        "/api/v1/relationships/",
        "/api/v1/relationship-types/",
        "/api/v1/data-sources/",
        "/api/v1/imports/",
    ],
)
def test_staff_only(url, api_as, alice, agent):
    assert APIClient().get(url).status_code == 401
    assert api_as(alice).get(url).status_code == 403
    assert api_as(agent).get(url).status_code == 200


def test_end_user_cannot_read_a_ci_or_its_impact(api_as, alice, agent):
    server = make_server(agent, "db01")
    for url in (f"/api/v1/cis/{server.pk}/", f"/api/v1/cis/{server.pk}/impact/"):
        assert api_as(alice).get(url).status_code == 403


def test_create_ci(api_as, agent, service_desk):
    response = api_as(agent).post(
        "/api/v1/cis/",
        {
            "name": "db01",
            "ci_class": "server",
            "owner_team": service_desk.pk,
            "attributes": {"hostname": "db01", "cpu_count": "8"},
        },
    )
    assert response.status_code == 201, response.data
    assert response.data["attributes"] == {"hostname": "db01", "cpu_count": 8}
    assert response.data["class_name"] == "Server"
    assert response["ETag"] == f'"ci{response.data["id"]}-v1"'
    ci = ConfigurationItem.objects.get()
    assert JournalEntry.objects.for_record(ci).filter(kind="created", actor=agent).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "ci_class": "nope", "attributes": {"hostname": "x"}}, "ci_class"),
        ({"name": "x", "ci_class": "server", "attributes": {}}, "attributes.hostname"),
        (
            {"name": "x", "ci_class": "server", "attributes": {"hostname": "x", "cpu_count": "z"}},
            "attributes.cpu_count",
        ),
        (
            {"name": "x", "ci_class": "server", "attributes": {"hostname": "x", "bogus": 1}},
            "attributes.bogus",
        ),
        (
            {"name": "x", "ci_class": "server", "status": "gone", "attributes": {"hostname": "x"}},
            "status",
        ),
        ({"name": "", "ci_class": "application"}, "name"),
    ],
)
def test_create_ci_bad_input(api_as, agent, payload, field):
    response = api_as(agent).post("/api/v1/cis/", payload)
    assert response.status_code == 400
    assert field in response.data
    assert not ConfigurationItem.objects.exists()


def test_duplicate_identity_is_a_400_naming_the_attribute(api_as, agent):
    make_server(agent, "db01")
    response = api_as(agent).post(
        "/api/v1/cis/",
        {
            "name": "other",
            "ci_class": "server",
            "attributes": {"hostname": "DB01", "domain": "corp.example"},
        },
    )
    assert response.status_code == 400
    assert "already has this host name and domain" in response.data["attributes.hostname"][0]


def test_patch_with_if_match(api_as, agent):
    server = make_server(agent, "db01")
    client = api_as(agent)
    url = f"/api/v1/cis/{server.pk}/"
    etag = client.get(url)["ETag"]
    response = client.patch(url, {"attributes": {"cpu_count": 4}}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200 and response.data["version"] == 2
    stale = client.patch(url, {"status": "retired"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    server.refresh_from_db()
    assert server.status == "live"
    history = client.get(f"{url}history/").data
    assert history[0]["data"] == {"attributes.cpu_count": [None, 4]}


def test_filters_by_class_status_and_attributes(api_as, agent):
    make_server(agent, "big", cpu_count=64, operating_system="Debian 13")
    make_server(agent, "small", cpu_count=2, operating_system="Windows Server")
    services.create_ci(
        agent,
        ci_class=CIClass.objects.get(key="virtual_machine"),
        name="vm",
        attributes={"hostname": "vm"},
        status="retired",
    )
    ci("ERP", "application")
    client = api_as(agent)

    def names(query):
        response = client.get(f"/api/v1/cis/?{query}")
        assert response.status_code == 200, response.data
        return sorted(row["name"] for row in response.data["results"])

    assert names("ci_class=hardware") == ["big", "small"]
    assert names("ci_class=server,virtual_machine") == ["big", "small", "vm"]
    assert names("status=retired") == ["vm"]
    assert names("attr.cpu_count=64") == ["big"]
    assert names("attr.cpu_count__gte=3") == ["big"]
    assert names("attr.operating_system__icontains=debian") == ["big"]
    assert names("search=SMA") == ["small"]
    assert client.get("/api/v1/cis/?attr.cpu_count=many").status_code == 400
    assert client.get("/api/v1/cis/?attr.colour=red").status_code == 400
    assert client.get("/api/v1/cis/?ci_class=nope").status_code == 400


def test_list_query_count_does_not_grow(api_as, agent, django_assert_max_num_queries):
    for i in range(30):
        make_server(agent, f"srv{i}")
    client = api_as(agent)
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/cis/?page_size=30")
    assert len(response.data["results"]) == 30


def test_impact_endpoint(api_as, agent, django_assert_max_num_queries):
    service = ci("Payroll", "business_service")
    app = ci("Payroll app", "application")
    host = make_server(agent, "esx-01")
    depends_on = RelationshipType.objects.get(key="depends_on")
    runs_on = RelationshipType.objects.get(key="runs_on")
    services.relate(agent, service, depends_on, app)
    services.relate(agent, app, runs_on, host)
    services.relate(agent, host, depends_on, service)  # a cycle, on purpose
    client = api_as(agent)
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/cis/{host.pk}/impact/")
    assert response.status_code == 200
    assert [(row["name"], row["depth"]) for row in response.data["items"]] == [
        ("Payroll app", 1),
        ("Payroll", 2),
    ]
    assert response.data["services"][0]["name"] == "Payroll"
    assert response.data["items"][0]["relationship"] == "Payroll app runs on esx-01"
    deps = client.get(f"/api/v1/cis/{service.pk}/impact/?direction=dependencies&depth=1")
    assert [row["name"] for row in deps.data["items"]] == ["Payroll app"]
    cut = client.get(f"/api/v1/cis/{host.pk}/impact/?limit=1").data
    assert [row["name"] for row in cut["items"]] == ["Payroll app"]
    assert cut["count"] == 2
    assert [(s["name"], s["depth"]) for s in cut["services"]] == [("Payroll", 2)]
    assert client.get(f"/api/v1/cis/{host.pk}/impact/?limit=0").status_code == 400
    assert client.get(f"/api/v1/cis/{host.pk}/impact/?depth=0").status_code == 400
    assert client.get(f"/api/v1/cis/{host.pk}/impact/?direction=up").status_code == 400


def test_relationships_api(api_as, agent, alice):
    app = ci("ERP", "application")
    host = make_server(agent, "db01")
    client = api_as(agent)
    response = client.post(
        "/api/v1/relationships/", {"source": app.pk, "type": "runs_on", "target": host.pk}
    )
    assert response.status_code == 201, response.data
    assert response.data["label"] == "ERP runs on db01"
    again = client.post(
        "/api/v1/relationships/", {"source": app.pk, "type": "runs_on", "target": host.pk}
    )
    assert again.status_code == 400 and "target" in again.data
    bad = client.post("/api/v1/relationships/", {"source": app.pk, "type": "x", "target": host.pk})
    assert bad.status_code == 400 and "type" in bad.data
    assert (
        client.get(f"/api/v1/relationships/?ci={host.pk}").data["results"][0]["id"]
        == (response.data["id"])
    )
    assert api_as(alice).delete(f"/api/v1/relationships/{response.data['id']}/").status_code == 403
    assert client.delete(f"/api/v1/relationships/{response.data['id']}/").status_code == 204
    assert not Relationship.objects.exists()


def test_only_administrators_change_classes(api_as, agent, admin_user):
    payload = {"key": "printer", "name": "Printer", "parent": "hardware"}
    assert api_as(agent).post("/api/v1/ci-classes/", payload).status_code == 403
    response = api_as(admin_user).post("/api/v1/ci-classes/", payload)
    assert response.status_code == 201, response.data
    attribute = {
        "ci_class": "printer",
        "key": "ppm",
        "label": "Pages per minute",
        "type": "integer",
    }
    assert api_as(agent).post("/api/v1/ci-attributes/", attribute).status_code == 403
    assert api_as(admin_user).post("/api/v1/ci-attributes/", attribute).status_code == 201
    clash = {**attribute, "key": "serial_number", "label": "Serial"}
    response = api_as(admin_user).post("/api/v1/ci-attributes/", clash)
    assert response.status_code == 400 and "key" in response.data
    choice = {**attribute, "key": "colour", "type": "choice", "choices": []}
    assert "choices" in api_as(admin_user).post("/api/v1/ci-attributes/", choice).data
    detail = api_as(agent).get("/api/v1/ci-classes/printer/").data
    assert [a["key"] for a in detail["attributes"]] == ["ppm"]
    bad_rule = api_as(admin_user).patch(
        "/api/v1/ci-classes/printer/", {"identification_rules": [["toner"]]}
    )
    assert bad_rule.status_code == 400 and "identification_rules" in bad_rule.data
    assert AttributeDefinition.objects.filter(ci_class__key="printer").count() == 1


def test_batch_import_api(api_as, agent):
    DataSource.objects.create(key="discovery", name="Discovery")
    client = api_as(agent)
    payload = {
        "data_source": "discovery",
        "items": [
            {"class": "server", "name": "a", "attributes": {"hostname": "a"}},
            {"class": "server", "name": "b", "attributes": {"hostname": "b", "cpu_count": "x"}},
        ],
        "dry_run": True,
    }
    preview = client.post("/api/v1/imports/", payload)
    assert preview.status_code == 201
    assert (preview.data["status"], preview.data["created"], preview.data["failed"]) == (
        "preview",
        1,
        1,
    )
    assert not ConfigurationItem.objects.exists()
    applied = client.post(f"/api/v1/imports/{preview.data['id']}/apply/")
    assert applied.status_code == 200 and applied.data["status"] == "applied"
    assert ConfigurationItem.objects.count() == 1
    assert client.post(f"/api/v1/imports/{preview.data['id']}/apply/").status_code == 400
    assert client.post("/api/v1/imports/", {"data_source": "discovery"}).status_code == 400
    assert client.post("/api/v1/imports/", {**payload, "data_source": "x"}).status_code == 400


def test_class_rules_and_moves_are_checked(api_as, admin_user):
    client = api_as(admin_user)
    bad_rule = client.post(
        "/api/v1/ci-classes/",
        {"key": "rack", "name": "Rack", "parent": "hardware", "identification_rules": [["nope"]]},
    )
    assert bad_rule.status_code == 400 and "identification_rules" in bad_rule.data
    # Hardware's serial number may identify a new subclass.
    ok = client.post(
        "/api/v1/ci-classes/",
        {
            "key": "rack",
            "name": "Rack",
            "parent": "hardware",
            "identification_rules": [["serial_number"]],
        },
    )
    assert ok.status_code == 201, ok.data
    # Database and application both define "version": one cannot go below the other.
    move = client.patch("/api/v1/ci-classes/database/", {"parent": "application"})
    assert move.status_code == 400 and "version" in str(move.data["parent"])


@pytest.mark.parametrize("value", [5, "hostname", [{"a": 1}], [""]])
def test_data_source_trust_lists_are_checked(api_as, admin_user, value):
    response = api_as(admin_user).post(
        "/api/v1/data-sources/", {"key": "disc", "name": "Discovery", "trusted_fields": value}
    )
    assert response.status_code == 400 and "trusted_fields" in response.data
    assert not DataSource.objects.exists()


def test_huge_numbers_in_if_match_are_a_412(api_as, agent):
    server = make_server(agent, "db01")
    response = api_as(agent).patch(
        f"/api/v1/cis/{server.pk}/", {"status": "retired"}, HTTP_IF_MATCH=f'"ci{"9" * 5000}-v1"'
    )
    assert response.status_code == 412


def test_a_new_identification_rule_applies_to_existing_cis(api_as, agent, admin_user):
    from cmdb import imports

    source = DataSource.objects.create(key="disc", name="Discovery")
    imports.run(
        source,
        [{"class": "application", "name": "ERP", "attributes": {"vendor": "SAP"}}],
        [],
        agent,
    )
    client = api_as(admin_user)
    response = client.patch(
        "/api/v1/ci-classes/application/", {"identification_rules": [["vendor"]]}
    )
    assert response.status_code == 200, response.data
    # Now the vendor identifies it: the same vendor under another name is the same CI.
    run = imports.run(
        source,
        [{"class": "application", "name": "ERP 2", "attributes": {"vendor": "SAP"}}],
        [],
        agent,
    )
    assert (run.created, run.updated) == (0, 1)
    assert ConfigurationItem.objects.count() == 1


def test_a_rule_or_unique_flag_that_would_merge_cis_is_refused(api_as, agent, admin_user):
    ci("ERP", "application", attributes={"vendor": "SAP"})
    ci("CRM", "application", attributes={"vendor": "SAP"})
    client = api_as(admin_user)
    response = client.patch(
        "/api/v1/ci-classes/application/", {"identification_rules": [["vendor"]]}
    )
    assert response.status_code == 400 and "would be one CI" in str(response.data)
    vendor = AttributeDefinition.objects.get(ci_class__key="application", key="vendor")
    response = client.patch(f"/api/v1/ci-attributes/{vendor.pk}/", {"unique": True})
    assert response.status_code == 400 and "unique" in response.data
    vendor.refresh_from_db()
    assert not vendor.unique


def test_an_attribute_holding_values_is_not_renamed_or_removed(api_as, admin_user):
    ci("ERP", "application", attributes={"vendor": "SAP"})
    vendor = AttributeDefinition.objects.get(ci_class__key="application", key="vendor")
    client = api_as(admin_user)
    assert (
        client.patch(f"/api/v1/ci-attributes/{vendor.pk}/", {"key": "supplier"}).status_code == 400
    )
    assert client.delete(f"/api/v1/ci-attributes/{vendor.pk}/").status_code == 400
    assert AttributeDefinition.objects.filter(pk=vendor.pk, key="vendor").exists()
    unused = AttributeDefinition.objects.get(ci_class__key="application", key="url")
    assert client.delete(f"/api/v1/ci-attributes/{unused.pk}/").status_code == 204


def test_the_admin_refuses_to_delete_an_attribute_holding_values(db):
    """The class's admin page says why instead of failing (its attribute formset)."""
    from django.forms.models import inlineformset_factory

    from cmdb.admin import AttributeDefinitionFormSet

    ci("ERP", "application", attributes={"vendor": "SAP"})
    application = CIClass.objects.get(key="application")
    formset_class = inlineformset_factory(
        CIClass,
        AttributeDefinition,
        formset=AttributeDefinitionFormSet,
        fields=["key", "label", "type", "order"],
        extra=0,
        can_delete=True,
    )

    def post(delete_key):
        rows = list(application.attributes.order_by("order", "key"))
        data = {
            "attributes-TOTAL_FORMS": len(rows),
            "attributes-INITIAL_FORMS": len(rows),
            "attributes-MIN_NUM_FORMS": 0,
            "attributes-MAX_NUM_FORMS": 1000,
        }
        for i, row in enumerate(rows):
            data.update(
                {
                    f"attributes-{i}-id": row.pk,
                    f"attributes-{i}-key": row.key,
                    f"attributes-{i}-label": row.label,
                    f"attributes-{i}-type": row.type,
                    f"attributes-{i}-order": row.order,
                }
            )
            if row.key == delete_key:
                data[f"attributes-{i}-DELETE"] = "on"
        return formset_class(data, instance=application, prefix="attributes")

    refused = post("vendor")
    assert not refused.is_valid()
    assert "1 CI holds a value for vendor" in str(refused.non_form_errors())
    allowed = post("url")
    assert allowed.is_valid(), allowed.errors
