"""The asset management API over HTTP: who may do what, lifecycle moves and history, bad
input, filters, conflicts and query counts."""

import pytest
from rest_framework.test import APIClient

from practices.assets import services
from practices.assets.models import Asset, Contract, Licence, Supplier

from .helpers import days, deployed, install, licence, make_asset, server, software

pytestmark = pytest.mark.django_db

ASSETS = "/api/v1/assets/"
SUPPLIERS = "/api/v1/suppliers/"
CONTRACTS = "/api/v1/contracts/"
LICENCES = "/api/v1/licences/"
COMPLIANCE = "/api/v1/licences/compliance/"


def url(asset, suffix=""):
    return f"{ASSETS}{asset.asset_tag}/{suffix}"


@pytest.fixture
def contract(agent, dell, manager):
    return services.create_contract(
        agent,
        {
            "reference": "C-1",
            "kind": "support",
            "supplier": dell,
            "start_date": days(-100),
            "end_date": days(265),
            "owner": manager,
        },
    )


# Permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [ASSETS, f"{ASSETS}AT-1/", f"{ASSETS}AT-1/history/", SUPPLIERS, CONTRACTS, LICENCES]
)
def test_anonymous_is_refused(agent, path):
    make_asset(agent, "AT-1")
    response = APIClient().get(path)
    assert response.status_code == 401


def test_anonymous_cannot_write(agent):
    make_asset(agent, "AT-1")
    client = APIClient()
    assert client.post(ASSETS, {"asset_tag": "AT-2", "model": "X"}).status_code == 401
    assert client.post(f"{ASSETS}AT-1/move/", {"state": "received"}).status_code == 401
    assert Asset.objects.count() == 1


def test_an_end_user_lists_and_reads_only_their_own_assets(api_as, agent, alice, bob):
    deployed(agent, "AT-1", user=alice)
    other = deployed(agent, "AT-2", user=bob)
    make_asset(agent, "AT-3")
    client = api_as(alice)
    response = client.get(ASSETS)
    assert response.status_code == 200
    assert [a["asset_tag"] for a in response.json()["results"]] == ["AT-1"]
    assert client.get(f"{ASSETS}AT-1/").status_code == 200
    assert client.get(url(other)).status_code == 404
    assert client.get(f"{ASSETS}AT-3/").status_code == 404


def test_an_end_user_cannot_write_nor_see_history(api_as, agent, alice):
    asset = deployed(agent, "AT-1", user=alice)
    client = api_as(alice)
    assert client.post(ASSETS, {"asset_tag": "AT-9", "model": "X"}).status_code == 403
    assert client.patch(url(asset), {"notes": "mine"}).status_code == 403
    assert client.post(url(asset, "move/"), {"state": "in_repair"}).status_code == 403
    assert client.get(url(asset, "history/")).status_code == 403
    asset.refresh_from_db()
    assert (asset.state, asset.notes, Asset.objects.count()) == ("deployed", "", 1)


@pytest.mark.parametrize("path", [SUPPLIERS, CONTRACTS, LICENCES, COMPLIANCE])
def test_suppliers_contracts_and_licences_are_for_staff(api_as, alice, agent, path):
    client = api_as(alice)
    assert client.get(path).status_code == 403
    assert client.post(path, {}).status_code in (403, 405)
    assert api_as(agent).get(path).status_code == 200


def test_an_end_user_cannot_read_one_supplier_contract_or_licence(
    api_as, alice, agent, dell, contract
):
    product = software("Office")
    entitlement = licence(agent, product, 5)
    client = api_as(alice)
    for path in (
        f"{SUPPLIERS}{dell.pk}/",
        f"{CONTRACTS}{contract.pk}/",
        f"{LICENCES}{entitlement.pk}/",
    ):
        assert client.get(path).status_code == 403
        assert client.patch(path, {"notes": "x"}).status_code == 403
    assert Supplier.objects.get(pk=dell.pk).notes == ""


# Assets -----------------------------------------------------------------------------------


def test_staff_register_read_and_change_an_asset(api_as, agent, alice, dell, berlin):
    client = api_as(agent)
    response = client.post(
        ASSETS,
        {
            "asset_tag": "AT-1",
            "model": "Latitude 7440",
            "serial_number": "SN-1",
            "vendor": dell.pk,
            "purchase_date": "2024-01-10",
            "purchase_cost": "1450.00",
            "currency": "EUR",
            "warranty_end": "2027-01-10",
            "location": berlin.pk,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "ordered"
    assert body["allowed_states"] == ["received"]
    assert body["vendor_name"] == "Dell"

    response = client.get(f"{ASSETS}AT-1/")
    assert response.status_code == 200
    assert response["ETag"] == '"AT-1-v1"'

    response = client.patch(f"{ASSETS}AT-1/", {"assigned_to": "alice", "notes": "spare"})
    assert response.status_code == 200, response.json()
    assert response.json()["assigned_to"] == "alice"
    assert response["ETag"] == '"AT-1-v2"'


def test_put_is_not_offered(api_as, agent):
    make_asset(agent, "AT-1")
    response = api_as(agent).put(f"{ASSETS}AT-1/", {"asset_tag": "AT-1", "model": "X"})
    assert response.status_code == 405


def test_move_takes_the_asset_through_its_lifecycle(api_as, agent, alice):
    make_asset(agent, "AT-1")
    client = api_as(agent)
    assert client.post(f"{ASSETS}AT-1/move/", {"state": "received"}).status_code == 200
    response = client.post(
        f"{ASSETS}AT-1/move/", {"state": "deployed", "assigned_to": "alice", "note": "New hire"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "deployed"
    assert response.json()["assigned_to"] == "alice"

    history = client.get(f"{ASSETS}AT-1/history/").json()
    assert [(h["kind"], h["actor"]) for h in history] == [
        ("created", "agent"),
        ("state", "agent"),
        ("fields", "agent"),
        ("state", "agent"),
    ]
    assert history[1]["data"] == {"from": "ordered", "to": "received"}
    assert history[2]["data"] == {"assigned_to": [None, "Alice"]}
    assert history[3]["data"] == {"from": "received", "to": "deployed"}
    assert history[3]["body"] == "New hire"
    assert all(h["created_at"] for h in history)


def test_an_illegal_move_is_a_400_naming_the_allowed_states(api_as, agent):
    make_asset(agent, "AT-1")
    response = api_as(agent).post(f"{ASSETS}AT-1/move/", {"state": "deployed"})
    assert response.status_code == 400
    assert response.json() == {
        "state": ["Cannot move from ordered to deployed. Allowed next states: received."]
    }
    assert Asset.objects.get(asset_tag="AT-1").state == "ordered"


def test_deploying_without_user_or_location_is_a_400(api_as, agent):
    services.move(make_asset(agent, "AT-1"), agent, "received")
    response = api_as(agent).post(f"{ASSETS}AT-1/move/", {"state": "deployed"})
    assert response.status_code == 400
    assert "assigned_to" in response.json()
    assert Asset.objects.get(asset_tag="AT-1").state == "received"


def test_patching_the_state_moves_the_asset_with_the_same_checks(api_as, agent):
    make_asset(agent, "AT-1")
    client = api_as(agent)
    response = client.patch(f"{ASSETS}AT-1/", {"state": "retired"})
    assert response.status_code == 400
    assert "Allowed next states: received" in response.json()["state"][0]
    assert client.patch(f"{ASSETS}AT-1/", {"state": "received"}).json()["state"] == "received"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"asset_tag": "", "model": "X"}, "asset_tag"),
        ({"asset_tag": "has space", "model": "X"}, "asset_tag"),
        ({"asset_tag": "AT-EXISTS", "model": "X"}, "asset_tag"),
        ({"asset_tag": "AT-2"}, "model"),
        ({"asset_tag": "AT-2", "model": "X", "purchase_cost": "-5"}, "purchase_cost"),
        ({"asset_tag": "AT-2", "model": "X", "purchase_date": "yesterday"}, "purchase_date"),
        ({"asset_tag": "AT-2", "model": "X", "currency": "eur"}, "currency"),
        ({"asset_tag": "AT-2", "model": "X", "assigned_to": "nobody"}, "assigned_to"),
        ({"asset_tag": "AT-2", "model": "X", "vendor": 999999}, "vendor"),
        ({"asset_tag": "AT-2", "model": "X", "state": "lost"}, "state"),
        (
            {
                "asset_tag": "AT-2",
                "model": "X",
                "purchase_date": "2024-05-01",
                "warranty_end": "2024-01-01",
            },
            "warranty_end",
        ),
        ({"asset_tag": "AT-2", "model": "X", "state": "deployed"}, "assigned_to"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(api_as, agent, payload, field):
    make_asset(agent, "AT-EXISTS")
    response = api_as(agent).post(ASSETS, payload)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Asset.objects.count() == 1


def test_a_bad_patch_keeps_what_was_saved(api_as, agent):
    make_asset(agent, "AT-1", serial_number="S1")
    response = api_as(agent).patch(f"{ASSETS}AT-1/", {"serial_number": "S2", "purchase_cost": "-1"})
    assert response.status_code == 400
    assert "purchase_cost" in response.json()
    asset = Asset.objects.get(asset_tag="AT-1")
    assert (asset.serial_number, asset.version) == ("S1", 1)


def test_a_stale_if_match_is_a_412(api_as, agent):
    make_asset(agent, "AT-1")
    client = api_as(agent)
    assert (
        client.patch(f"{ASSETS}AT-1/", {"notes": "a"}, HTTP_IF_MATCH='"AT-1-v1"').status_code == 200
    )
    response = client.patch(f"{ASSETS}AT-1/", {"notes": "b"}, HTTP_IF_MATCH='"AT-1-v1"')
    assert response.status_code == 412
    assert Asset.objects.get(asset_tag="AT-1").notes == "a"


def test_create_is_idempotent_with_a_key(api_as, agent):
    client = api_as(agent)
    payload = {"asset_tag": "AT-1", "model": "X"}
    first = client.post(ASSETS, payload, HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post(ASSETS, payload, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Asset.objects.count() == 1


# Filters ----------------------------------------------------------------------------------


def tags(response):
    assert response.status_code == 200, response.json()
    return [a["asset_tag"] for a in response.json()["results"]]


def test_filters(api_as, agent, alice, bob, dell, lenovo, berlin, london):
    deployed(agent, "AT-1", user=alice, vendor=dell, location=berlin, warranty_end=days(10))
    deployed(agent, "AT-2", user=bob, vendor=lenovo, location=london, serial_number="XYZ-77")
    make_asset(agent, "AT-3", model="PowerEdge R760", vendor=dell, warranty_end=days(400))
    client = api_as(agent)
    assert tags(client.get(ASSETS, {"state": "deployed"})) == ["AT-1", "AT-2"]
    assert tags(client.get(ASSETS, {"state": ["ordered", "deployed"]})) == ["AT-1", "AT-2", "AT-3"]
    assert tags(client.get(ASSETS, {"assigned_to": "bob"})) == ["AT-2"]
    assert tags(client.get(ASSETS, {"assigned_to": "me"})) == []
    assert tags(client.get(ASSETS, {"location": london.pk})) == ["AT-2"]
    assert tags(client.get(ASSETS, {"supplier": dell.pk})) == ["AT-1", "AT-3"]
    assert tags(client.get(ASSETS, {"warranty_expires_before": days(30)})) == ["AT-1"]
    assert tags(client.get(ASSETS, {"search": "xyz"})) == ["AT-2"]
    assert tags(client.get(ASSETS, {"search": "poweredge"})) == ["AT-3"]
    assert tags(client.get(ASSETS, {"search": "at-1"})) == ["AT-1"]
    assert tags(client.get(ASSETS, {"ordering": "-asset_tag"})) == ["AT-3", "AT-2", "AT-1"]
    assert tags(api_as(alice).get(ASSETS, {"assigned_to": "me"})) == ["AT-1"]
    assert tags(api_as(alice).get(ASSETS, {"assigned_to": "bob"})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"warranty_expires_before": "soon"}, "warranty_expires_before"),
        ({"location": "999999"}, "location"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(api_as, agent, params, field):
    response = api_as(agent).get(ASSETS, params)
    assert response.status_code == 400
    assert field in response.json()


def test_keyset_pages_walk_the_whole_list(api_as, agent):
    for n in range(7):
        make_asset(agent, f"AT-{n}")
    client = api_as(agent)
    seen, page = [], client.get(ASSETS, {"page_size": 3})
    while True:
        seen += tags(page)
        if not page.json()["next"]:
            break
        page = client.get(page.json()["next"])
    assert seen == [f"AT-{n}" for n in range(7)]


# Query counts -----------------------------------------------------------------------------


def test_asset_list_queries_do_not_grow_with_rows(
    api_as, agent, alice, dell, berlin, django_assert_num_queries
):
    client = api_as(agent)
    deployed(agent, "AT-0", user=alice, vendor=dell, location=berlin)
    with django_assert_num_queries(1):
        assert len(tags(client.get(ASSETS))) == 1
    for n in range(1, 12):
        deployed(agent, f"AT-{n}", user=alice, vendor=dell, location=berlin)
    with django_assert_num_queries(1):
        assert len(tags(client.get(ASSETS))) == 12


def test_an_end_users_list_is_one_query(api_as, agent, alice, django_assert_num_queries):
    for n in range(5):
        deployed(agent, f"AT-{n}", user=alice)
    client = api_as(alice)
    with django_assert_num_queries(1):
        assert len(tags(client.get(ASSETS))) == 5


def test_contract_list_queries_do_not_grow_with_rows(
    api_as, agent, dell, manager, django_assert_num_queries
):
    assets = [make_asset(agent, f"AT-{n}") for n in range(4)]
    machines = [server(f"srv-{n}") for n in range(3)]

    def contract(n):
        services.create_contract(
            agent,
            {
                "reference": f"C-{n}",
                "kind": "lease",
                "supplier": dell,
                "start_date": days(-10),
                "end_date": days(300),
                "owner": manager,
                "assets": assets,
                "configuration_items": machines,
            },
        )

    contract(0)
    client = api_as(agent)
    with django_assert_num_queries(3):
        assert len(client.get(CONTRACTS).json()["results"]) == 1
    for n in range(1, 8):
        contract(n)
    with django_assert_num_queries(3):
        body = client.get(CONTRACTS).json()["results"]
    assert len(body) == 8
    assert body[0]["assets"] == ["AT-0", "AT-1", "AT-2", "AT-3"]


def test_licence_and_supplier_lists_are_one_query(
    api_as, agent, dell, lenovo, django_assert_num_queries
):
    for n in range(4):
        licence(agent, software(f"Product {n}"), n + 1)
    client = api_as(agent)
    with django_assert_num_queries(1):
        assert len(client.get(LICENCES).json()["results"]) == 4
    with django_assert_num_queries(1):
        assert len(client.get(SUPPLIERS).json()["results"]) == 2


# Suppliers, contracts and licences --------------------------------------------------------


def test_staff_manage_suppliers(api_as, agent):
    client = api_as(agent)
    response = client.post(
        SUPPLIERS,
        {
            "name": "Dell",
            "contact": "Dana",
            "email": "dana@dell.example.com",
            "website": "https://dell.example.com",
        },
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert client.patch(f"{SUPPLIERS}{pk}/", {"phone": "+49 1"}).json()["phone"] == "+49 1"
    bad = client.post(SUPPLIERS, {"name": "Dell"})
    assert bad.status_code == 400
    assert "name" in bad.json()
    bad = client.post(SUPPLIERS, {"name": "Other", "email": "not-an-address"})
    assert bad.status_code == 400
    assert "email" in bad.json()
    assert Supplier.objects.count() == 1


def test_staff_manage_contracts_with_what_they_cover(api_as, agent, dell):
    make_asset(agent, "AT-1")
    machine = server("srv-1")
    client = api_as(agent)
    payload = {
        "reference": "C-9",
        "kind": "maintenance",
        "supplier": dell.pk,
        "start_date": "2025-01-01",
        "end_date": "2026-01-01",
        "renewal_date": "2025-12-01",
        "cost_per_year": "1200.00",
        "owner": "agent",
        "assets": ["AT-1"],
        "configuration_items": [machine.pk],
    }
    response = client.post(CONTRACTS, payload)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["assets"], body["configuration_items"], body["notice_period_days"]) == (
        ["AT-1"],
        [machine.pk],
        30,
    )
    response = client.patch(f"{CONTRACTS}{body['id']}/", {"assets": [], "notice_period_days": 60})
    assert response.status_code == 200
    assert response.json()["assets"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": "2024-01-01"}, "end_date"),
        ({"renewal_date": "2024-01-01"}, "renewal_date"),
        ({"kind": "rental"}, "kind"),
        ({"assets": ["AT-NOPE"]}, "assets"),
        ({"notice_period_days": -3}, "notice_period_days"),
        ({"supplier": None}, "supplier"),
    ],
)
def test_bad_contracts_are_a_400_naming_the_field(api_as, agent, dell, changes, field):
    payload = {
        "reference": "C-9",
        "kind": "support",
        "supplier": dell.pk,
        "start_date": "2025-01-01",
        "end_date": "2026-01-01",
        **changes,
    }
    response = api_as(agent).post(CONTRACTS, payload)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Contract.objects.exists()


def test_staff_manage_licences(api_as, agent):
    product = software("Office")
    client = api_as(agent)
    response = client.post(
        LICENCES, {"software": product.pk, "quantity": 10, "valid_from": "2025-01-01"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["metric"] == "installations"
    assert response.json()["software_name"] == "Office"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"software": "SERVER"}, "software"),
        ({"quantity": 0}, "quantity"),
        ({"valid_from": "2025-02-01", "valid_until": "2025-01-01"}, "valid_until"),
        ({"metric": "users"}, "metric"),
    ],
)
def test_bad_licences_are_a_400_naming_the_field(api_as, agent, changes, field):
    product = software("Office")
    machine = server("srv-1")
    payload = {"software": product.pk, "quantity": 5, **changes}
    if payload["software"] == "SERVER":
        payload["software"] = machine.pk
    response = api_as(agent).post(LICENCES, payload)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Licence.objects.exists()


def test_compliance_over_http(api_as, agent, django_assert_num_queries):
    office, acrobat = software("Office"), software("Acrobat")
    hosts = [server(f"srv-{n}") for n in range(3)]
    install(office, *hosts[:2])
    install(acrobat, *hosts)
    licence(agent, office, 5)
    licence(agent, acrobat, 1)
    client = api_as(agent)
    with django_assert_num_queries(3):
        rows = client.get(COMPLIANCE).json()
    assert rows == [
        {
            "software": acrobat.pk,
            "software_name": "Acrobat",
            "entitlements": 1,
            "installations": 3,
            "difference": -2,
            "status": "under_licensed",
        },
        {
            "software": office.pk,
            "software_name": "Office",
            "entitlements": 5,
            "installations": 2,
            "difference": 3,
            "status": "over_licensed",
        },
    ]
    under = client.get(COMPLIANCE, {"status": "under_licensed"}).json()
    assert [r["software_name"] for r in under] == ["Acrobat"]
    assert client.get(COMPLIANCE, {"status": "bad"}).status_code == 400


# What an end user sees ---------------------------------------------------------------------

END_USER_FIELDS = {
    "asset_tag",
    "model",
    "serial_number",
    "state",
    "warranty_end",
    "location_name",
    "assigned_to",
}


def test_an_end_user_sees_only_the_public_fields_of_their_asset(
    api_as, agent, alice, dell, berlin, contract
):
    asset = deployed(
        agent,
        "AT-1",
        user=alice,
        location=berlin,
        vendor=dell,
        serial_number="SN-1",
        purchase_cost="1450.00",
        warranty_end=days(300),
        configuration_item=server("srv-secret"),
        notes="INTERNAL: keep away from the user",
    )
    client = api_as(alice)
    listed = client.get(ASSETS).json()["results"]
    one = client.get(url(asset)).json()
    for body in (listed[0], one):
        assert set(body) == END_USER_FIELDS
        assert body["location_name"] == "Berlin HQ"
        assert body["assigned_to"] == "alice"
        assert body["state"] == "deployed"
    text = str(client.get(ASSETS).content) + str(client.get(url(asset)).content)
    for secret in ("INTERNAL", "1450", "Dell", "srv-secret"):
        assert secret not in text
    # The history holds internal values (notes, costs, the vendor): staff only.
    assert client.get(url(asset, "history/")).status_code == 403
    staff = api_as(agent).get(url(asset)).json()
    assert {"vendor", "vendor_name", "purchase_cost", "notes", "configuration_item"} <= set(staff)
    assert staff["notes"].startswith("INTERNAL")


def test_an_end_users_reduced_list_is_still_one_query(
    api_as, agent, alice, berlin, django_assert_num_queries
):
    for n in range(5):
        deployed(agent, f"AT-{n}", user=alice, location=berlin)
    client = api_as(alice)
    client.get(ASSETS)
    with django_assert_num_queries(1):
        assert len(tags(client.get(ASSETS))) == 5


# If-Match out of range ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["5" * 5000, "9" * 19, "9" * 20, "1" * 5000 + "x"])
def test_an_if_match_of_any_size_is_a_412_never_a_500(api_as, agent, version):
    make_asset(agent, "AT-1")
    client = api_as(agent)
    header = f'"AT-1-v{version}"'
    response = client.patch(f"{ASSETS}AT-1/", {"notes": "x"}, HTTP_IF_MATCH=header)
    assert response.status_code == 412
    response = client.post(f"{ASSETS}AT-1/move/", {"state": "received"}, HTTP_IF_MATCH=header)
    assert response.status_code == 412
    asset = Asset.objects.get(asset_tag="AT-1")
    assert (asset.notes, asset.state, asset.version) == ("", "ordered", 1)


# Contract dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_date": "0001-01-01"}, "start_date"),
        ({"end_date": "9999-12-31"}, "end_date"),
        ({"renewal_date": "0001-01-01"}, "renewal_date"),
        ({"renewal_date": "1899-12-31"}, "renewal_date"),
        ({"end_date": "2201-01-01"}, "end_date"),
        ({"renewal_date": "2026-06-01"}, "renewal_date"),  # after the end
    ],
)
def test_contract_dates_out_of_range_are_a_400_naming_the_field(
    api_as, agent, dell, contract, changes, field
):
    payload = {
        "reference": "C-9",
        "kind": "support",
        "supplier": dell.pk,
        "start_date": "2025-01-01",
        "end_date": "2026-01-01",
        **changes,
    }
    client = api_as(agent)
    response = client.post(CONTRACTS, payload)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Contract.objects.filter(reference="C-9").exists()
    before = Contract.objects.values().get(pk=contract.pk)
    patch = {**payload, "reference": "C-1"} if field == "renewal_date" else changes
    response = client.patch(f"{CONTRACTS}{contract.pk}/", patch)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Contract.objects.values().get(pk=contract.pk) == before
