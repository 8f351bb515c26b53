"""The asset screens of the agent workspace through the Django test client: who may open
them, the list with its filters, the asset page (history, lifecycle buttons, fields),
contracts and the compliance report, with fixed query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from practices.assets import services, views
from practices.assets.models import Asset
from tests.factories import field_block, html_form, page, web

from .helpers import days, deployed, install, licence, make_asset, server, software

pytestmark = pytest.mark.django_db

LIST = "/assets/"
NEW = "/assets/new/"
CONTRACTS = "/assets/contracts/"
COMPLIANCE = "/assets/licences/"


def queries(browser, path) -> tuple[int, str]:
    """How many queries a page takes (counted at once: the next request clears the log)."""
    with CaptureQueriesContext(connection) as captured:
        html = page(browser.get(path))
    return len(captured.captured_queries), html


def detail(tag):
    return f"/assets/{tag}/"


@pytest.fixture
def contract(agent, dell, manager):
    asset = make_asset(agent, "AT-C")
    return services.create_contract(
        agent,
        {
            "reference": "C-1",
            "kind": "support",
            "supplier": dell,
            "start_date": days(-100),
            "end_date": days(265),
            "renewal_date": days(10),
            "owner": manager,
            "assets": [asset],
        },
    )


def all_pages(contract):
    return [
        LIST,
        NEW,
        detail("AT-C"),
        CONTRACTS,
        f"{CONTRACTS}{contract.pk}/",
        COMPLIANCE,
    ]


# Permissions ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, contract):
    for path in all_pages(contract):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/"), path


def test_end_users_get_403_everywhere(alice, agent, contract):
    services.update_asset(Asset.objects.get(asset_tag="AT-C"), agent, {"assigned_to": alice})
    browser = web(alice)
    for path in all_pages(contract):
        assert browser.get(path).status_code == 403, path
    assert browser.post(detail("AT-C") + "move/", {"state": "received"}).status_code == 403
    assert browser.post(detail("AT-C") + "edit/", {"notes": "x"}).status_code == 403
    assert browser.post(NEW, {"asset_tag": "AT-9", "model": "X"}).status_code == 403
    assert Asset.objects.get(asset_tag="AT-C").state == "ordered"
    assert Asset.objects.count() == 1


def test_staff_open_every_page(agent, contract):
    browser = web(agent)
    for path in all_pages(contract):
        assert browser.get(path).status_code == 200, path


def test_the_workspace_links_to_assets(agent):
    html = page(web(agent).get(LIST))
    assert 'href="/assets/"' in html
    assert "IT asset management" in html


# The list ---------------------------------------------------------------------------------


def test_the_list_filters_like_the_api(agent, alice, bob, dell, berlin):
    deployed(agent, "AT-1", user=alice, vendor=dell, location=berlin)
    deployed(agent, "AT-2", user=bob)
    make_asset(agent, "AT-3", model="PowerEdge")
    browser = web(agent)
    html = page(browser.get(LIST, {"state": "deployed", "assigned_to": "alice"}))
    assert "AT-1" in html
    assert "AT-2" not in html and "AT-3" not in html
    html = page(browser.get(LIST, {"search": "poweredge"}))
    assert "AT-3" in html and "AT-1" not in html
    fragment = page(browser.get(LIST, {"supplier": dell.pk}, HTTP_HX_REQUEST="true"))
    assert "<html" not in fragment
    assert "AT-1" in fragment and "AT-2" not in fragment


def test_bad_filters_are_shown_not_a_500(agent):
    response = web(agent).get(LIST, {"warranty_expires_before": "soon", "cursor": "junk"})
    assert response.status_code == 200
    assert "warranty_expires_before" in page(response)


def test_the_list_loads_more_with_a_keyset_cursor(agent, monkeypatch):
    monkeypatch.setattr(views.AssetScreens, "page_size", 2)
    for n in range(5):
        make_asset(agent, f"AT-{n}")
    browser = web(agent)
    html = page(browser.get(LIST))
    assert "AT-0" in html and "AT-1" in html and "AT-2" not in html
    more = html.split('class="more"')[1].split('href="?')[1].split('"')[0].replace("&amp;", "&")
    rows = page(browser.get(f"{LIST}?{more}", HTTP_HX_REQUEST="true"))
    assert "AT-2" in rows and "AT-3" in rows and "AT-1" not in rows


def test_list_page_queries_do_not_grow_with_rows(
    agent, alice, dell, berlin, django_assert_num_queries
):
    browser = web(agent)
    deployed(agent, "AT-0", user=alice, vendor=dell, location=berlin, warranty_end=days(5))
    browser.get(LIST)  # warm the session and content types
    first, html = queries(browser, LIST)
    assert "AT-0" in html
    for n in range(1, 15):
        deployed(agent, f"AT-{n}", user=alice, vendor=dell, location=berlin)
    with django_assert_num_queries(first):
        assert "AT-14" in page(browser.get(LIST))


# The asset page ---------------------------------------------------------------------------


def test_the_asset_page_shows_history_and_the_allowed_moves(agent, alice):
    asset = deployed(agent, "AT-1", user=alice)
    html = page(web(agent).get(detail("AT-1")))
    assert "AT-1" in html
    for label in ("Put in stock", "Send to repair", "Retire"):
        assert label in html
    assert ">Receive<" not in html
    assert "ordered → <b>received" in html
    assert "<b>assigned to</b>: — → Alice" in html
    assert asset.version == 3


def test_a_lifecycle_button_moves_the_asset(agent, alice):
    make_asset(agent, "AT-1")
    browser = web(agent)
    html = page(browser.get(detail("AT-1")))
    data = html_form(html, "/assets/AT-1/move/", state="received")
    response = browser.post("/assets/AT-1/move/", data)
    assert response.status_code == 302
    assert Asset.objects.get(asset_tag="AT-1").state == "received"
    html = page(browser.get(detail("AT-1")))
    data = html_form(html, "/assets/AT-1/move/", state="deployed")
    data["assigned_to"] = "alice"
    assert browser.post("/assets/AT-1/move/", data).status_code == 302
    asset = Asset.objects.get(asset_tag="AT-1")
    assert (asset.state, asset.assigned_to) == ("deployed", alice)


def test_an_illegal_or_incomplete_move_is_explained(agent):
    make_asset(agent, "AT-1")
    browser = web(agent)
    response = browser.post("/assets/AT-1/move/", {"state": "disposed", "version": 1})
    assert response.status_code == 400
    assert "Allowed next states: received" in page(response)
    services.move(Asset.objects.get(asset_tag="AT-1"), agent, "received")
    response = browser.post("/assets/AT-1/move/", {"state": "deployed", "version": 2})
    assert response.status_code == 400
    assert "needs an assigned user or a location" in page(response)
    assert Asset.objects.get(asset_tag="AT-1").state == "received"


def test_a_stale_form_shows_a_conflict(agent):
    asset = make_asset(agent, "AT-1")
    services.update_asset(asset, agent, {"notes": "changed elsewhere"})
    response = web(agent).post("/assets/AT-1/move/", {"state": "received", "version": 1})
    assert response.status_code == 409
    assert "Someone else changed" in page(response)
    assert Asset.objects.get(asset_tag="AT-1").state == "ordered"


def test_editing_fields_keeps_history_and_names_bad_fields(agent, bob):
    make_asset(agent, "AT-1", serial_number="OLD")
    browser = web(agent)
    data = html_form(page(browser.get(detail("AT-1"))), "/assets/AT-1/edit/")
    data.update(serial_number="NEW", assigned_to="bob")
    assert browser.post("/assets/AT-1/edit/", data).status_code == 302
    asset = Asset.objects.get(asset_tag="AT-1")
    assert (asset.serial_number, asset.assigned_to) == ("NEW", bob)
    assert "<b>serial number</b>: OLD → NEW" in page(browser.get(detail("AT-1")))

    data = html_form(page(browser.get(detail("AT-1"))), "/assets/AT-1/edit/")
    data.update(serial_number="NEWER", purchase_date="2024-05-01", warranty_end="2024-01-01")
    response = browser.post("/assets/AT-1/edit/", data)
    assert response.status_code == 400
    assert "The warranty cannot end before the purchase date." in page(response)
    assert Asset.objects.get(asset_tag="AT-1").serial_number == "NEW"


def test_registering_an_asset(agent, dell):
    browser = web(agent)
    data = html_form(page(browser.get(NEW)), "/assets/new/")
    data.update(asset_tag="AT-7", model="Latitude", vendor="dell", currency="EUR")
    response = browser.post(NEW, data)
    assert response.status_code == 302
    assert response["Location"] == detail("AT-7")
    data["model"] = "Again"
    response = browser.post(NEW, data)
    assert response.status_code == 400
    assert "already exists" in page(response)
    assert Asset.objects.count() == 1


def test_asset_page_queries_do_not_grow_with_history(
    agent, alice, bob, contract, django_assert_num_queries
):
    asset = deployed(agent, "AT-1", user=alice)
    browser = web(agent)
    browser.get(detail("AT-1"))
    first, _ = queries(browser, detail("AT-1"))
    for n in range(6):
        asset = services.update_asset(asset, agent, {"assigned_to": bob if n % 2 else alice})
        asset = services.update_asset(asset, agent, {"notes": f"note {n}"})
    with django_assert_num_queries(first):
        assert "note 5" in page(browser.get(detail("AT-1")))


# Contracts and compliance -----------------------------------------------------------------


def test_contracts_list_and_page(agent, contract):
    browser = web(agent)
    html = page(browser.get(CONTRACTS, {"kind": "support"}))
    assert "C-1" in html and "Dell" in html
    assert "C-1" not in page(browser.get(CONTRACTS, {"kind": "lease"}))
    html = page(browser.get(f"{CONTRACTS}{contract.pk}/"))
    assert "AT-C" in html
    assert "Inside the notice period" in html
    services.send_contract_reminders()
    assert "Renewal on" in page(browser.get(f"{CONTRACTS}{contract.pk}/"))


def test_contract_pages_queries_do_not_grow(agent, dell, manager, django_assert_num_queries):
    def make(n, assets):
        return services.create_contract(
            agent,
            {
                "reference": f"C-{n}",
                "kind": "lease",
                "supplier": dell,
                "start_date": days(-10),
                "end_date": days(300),
                "owner": manager,
                "assets": assets,
            },
        )

    first_contract = make(0, [make_asset(agent, "AT-0")])
    browser = web(agent)
    browser.get(CONTRACTS)
    list_first, _ = queries(browser, CONTRACTS)
    page_first, _ = queries(browser, f"{CONTRACTS}{first_contract.pk}/")
    assets = [make_asset(agent, f"AT-{n}") for n in range(1, 8)]
    services.update_contract(first_contract, agent, {"assets": assets})
    for n in range(1, 8):
        make(n, assets)
    with django_assert_num_queries(list_first):
        assert "C-7" in page(browser.get(CONTRACTS))
    with django_assert_num_queries(page_first):
        assert "AT-7" in page(browser.get(f"{CONTRACTS}{first_contract.pk}/"))


def test_the_compliance_page(agent, django_assert_num_queries):
    office, acrobat = software("Office"), software("Acrobat")
    hosts = [server(f"srv-{n}") for n in range(3)]
    install(office, hosts[0])
    install(acrobat, *hosts)
    licence(agent, office, 4)
    licence(agent, acrobat, 1)
    browser = web(agent)
    browser.get(COMPLIANCE)
    first, html = queries(browser, COMPLIANCE)
    assert "Over-licensed" in html and "Under-licensed" in html
    assert "+3" in html and "-2" in html
    html = page(browser.get(COMPLIANCE, {"status": "under_licensed"}))
    assert "Acrobat" in html and "Office</td>" not in html
    for n in range(5):
        product = software(f"Tool {n}")
        install(product, *hosts)
        licence(agent, product, 3)
    with django_assert_num_queries(first):
        assert "Tool 4" in page(browser.get(COMPLIANCE))


# Pickers that do not list whole tables ------------------------------------------------------


def test_the_asset_page_lists_no_cis_users_or_suppliers(agent, alice):
    from itsm.accounts.models import User

    deployed(agent, "AT-1", user=alice, configuration_item=server("srv-mine"))
    make_asset(agent, "AT-2")
    for n in range(5):
        server(f"srv-other-{n}")
        User.objects.create_user(username=f"someone-{n}", password="x")
    browser = web(agent)
    for path in (detail("AT-1"), detail("AT-2"), NEW):
        html = page(browser.get(path))
        assert "srv-other" not in html
        assert "someone-" not in html
        assert 'hx-get="/cmdb/lookup/"' in html
    html = page(browser.get(detail("AT-1")))
    ci = field_block(html, "configuration_item")
    assert "srv-mine #" in ci
    assert 'value="alice"' in field_block(html, "assigned_to")


def test_the_ci_is_typed_as_name_and_id_or_name(agent, bob):
    from cmdb.models import ConfigurationItem

    make_asset(agent, "AT-1")
    target = server("srv-1")
    browser = web(agent)
    data = html_form(page(browser.get(detail("AT-1"))), "/assets/AT-1/edit/")
    data.update(configuration_item=f"srv-1 #{target.pk}", assigned_to="bob")
    assert browser.post("/assets/AT-1/edit/", data).status_code == 302
    asset = Asset.objects.get(asset_tag="AT-1")
    assert (asset.configuration_item, asset.assigned_to) == (target, bob)

    other = server("srv-2")
    data = html_form(page(browser.get(detail("AT-1"))), "/assets/AT-1/edit/")
    assert data["configuration_item"] == f"srv-1 #{target.pk}"
    data["configuration_item"] = "SRV-2"
    assert browser.post("/assets/AT-1/edit/", data).status_code == 302
    assert Asset.objects.get(asset_tag="AT-1").configuration_item == other

    for bad, message in (
        ("no-such-ci", "No CI"),
        ("#" + "9" * 5000, "No CI"),
        (f"x #{ConfigurationItem.objects.order_by('-pk')[0].pk + 99}", "No CI"),
    ):
        data = html_form(page(browser.get(detail("AT-1"))), "/assets/AT-1/edit/")
        data["configuration_item"] = bad
        response = browser.post("/assets/AT-1/edit/", data)
        assert response.status_code == 400
        assert message in field_block(page(response), "configuration_item")
    data = html_form(page(browser.get(detail("AT-1"))), "/assets/AT-1/edit/")
    data.update(configuration_item="", assigned_to="nobody-by-that-name")
    response = browser.post("/assets/AT-1/edit/", data)
    assert response.status_code == 400
    assert "has-error" in field_block(page(response), "assigned_to")
    assert Asset.objects.get(asset_tag="AT-1").configuration_item == other


def test_asset_page_queries_do_not_grow_with_cis_users_or_suppliers(agent, alice):
    from itsm.accounts.models import User

    deployed(agent, "AT-1", user=alice, vendor=services.create_supplier(agent, {"name": "S0"}))
    make_asset(agent, "AT-2")
    browser = web(agent)
    browser.get(detail("AT-1"))
    counts = [queries(browser, detail(tag))[0] for tag in ("AT-1", "AT-2")]
    new_first, _ = queries(browser, NEW)
    for n in range(8):
        server(f"srv-{n}")
        User.objects.create_user(username=f"user-{n}", password="x")
        services.create_supplier(agent, {"name": f"S{n + 1}"})
    assert [queries(browser, detail(tag))[0] for tag in ("AT-1", "AT-2")] == counts
    assert queries(browser, NEW)[0] == new_first


def test_deploying_to_a_typed_username(agent, alice):
    asset = make_asset(agent, "AT-1")
    services.move(asset, agent, "received")
    browser = web(agent)
    html = page(browser.get(detail("AT-1")))
    assert '<select name="assigned_to"' not in html
    data = html_form(html, "/assets/AT-1/move/", state="deployed")
    data["assigned_to"] = "nobody-by-that-name"
    assert browser.post("/assets/AT-1/move/", data).status_code == 400
    data["assigned_to"] = "alice"
    assert browser.post("/assets/AT-1/move/", data).status_code == 302
    assert Asset.objects.get(asset_tag="AT-1").assigned_to == alice
