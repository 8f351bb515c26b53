"""The CMDB screens of the agent workspace through Django's test client: who may open
them, the CI list (filters, sorting, "Load more"), the CI form (typed attribute fields,
errors next to the field, conflicts), a CI's page (relationships both ways, impact,
dependencies, open incidents, history), the service map's data and the CSV import."""

import html
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cmdb import services
from cmdb.models import (
    CIClass,
    ConfigurationItem,
    DataSource,
    ImportRun,
    Relationship,
    RelationshipType,
)
from itsm.core.models import JournalEntry
from tests import factories
from tests.factories import field_block, html_form, page, web

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<td class="title"><a href="/cmdb/(\d+)/">')
MORE = re.compile(r'<tr class="more">.*?href="\?([^"]*)"', re.DOTALL)


def rtype(key) -> RelationshipType:
    return RelationshipType.objects.get(key=key)


def server(actor, name, **attributes):
    attributes.setdefault("hostname", name)
    return services.create_ci(actor, ci_class="server", name=name, attributes=attributes)


def listed(response) -> list[int]:
    assert response.status_code == 200, response.status_code
    return [int(pk) for pk in ROW.findall(page(response))]


def count_queries(client, path, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return len(captured)


@pytest.fixture
def stack(agent, service_desk, network_team):
    """A business service on an application on a database and a server:
    online-shop (service) → shop-app depends on → shop-db runs on → db-01 (server)."""
    shop = services.create_ci(agent, ci_class="business_service", name="online-shop")
    app = services.create_ci(
        agent, ci_class="application", name="shop-app", owner_team=service_desk
    )
    db = services.create_ci(
        agent,
        ci_class="database",
        name="shop-db",
        attributes={"engine": "postgresql", "instance": "main"},
        support_team=network_team,
    )
    host = server(agent, "db-01", serial_number="SN1", cpu_count=8, domain="corp.example")
    services.relate(agent, shop, rtype("depends_on"), app)
    services.relate(agent, app, rtype("depends_on"), db)
    services.relate(agent, db, rtype("runs_on"), host)
    return {"shop": shop, "app": app, "db": db, "host": host}


@pytest.fixture
def discovery(db):
    return DataSource.objects.create(key="discovery", name="Discovery")


@pytest.fixture
def preview_run(discovery, agent):
    return ImportRun.objects.create(
        data_source=discovery,
        status=ImportRun.Status.PREVIEW,
        started_by=agent,
        created=1,
        failed=1,
        results=[
            {"row": 2, "kind": "ci", "action": "create", "ci": None, "name": "srv-9",
             "changes": {"attributes.hostname": [None, "srv-9"]}, "errors": {}},
            {"row": 3, "kind": "ci", "action": "error", "ci": None, "name": "bad",
             "changes": {}, "errors": {"attributes.cpu_count": "A whole number expected."}},
        ],
    )  # fmt: skip


# Who may open what ------------------------------------------------------------------------

PAGES = [
    "/cmdb/",
    "/cmdb/?search=db",
    "/cmdb/new/",
    "/cmdb/new/?class=server",
    "/cmdb/{ci}/",
    "/cmdb/{ci}/edit/",
    "/cmdb/{ci}/map/",
    "/cmdb/{ci}/map.json?depth=2",
    "/cmdb/lookup/?q=shop",
    "/cmdb/import/",
    "/cmdb/import/{run}/",
]
POSTS = [
    "/cmdb/new/?class=application",
    "/cmdb/{ci}/edit/",
    "/cmdb/{ci}/relationships/",
    "/cmdb/{ci}/relationships/{rel}/remove/",
    "/cmdb/import/",
    "/cmdb/import/{run}/apply/",
]


def fill(path, stack, run):
    rel = Relationship.objects.get(source=stack["app"], target=stack["db"])
    return path.format(ci=stack["app"].pk, run=run.pk, rel=rel.pk)


class TestAccess:
    @pytest.mark.parametrize("path", PAGES)
    def test_anonymous_is_sent_to_login(self, client, stack, preview_run, path):
        path = fill(path, stack, preview_run)
        response = client.get(path)
        assert response.status_code == 302
        target = urlparse(response.url)
        assert target.path == "/login/"
        assert parse_qs(target.query)["next"] == [path]

    @pytest.mark.parametrize("path", PAGES)
    def test_end_user_gets_403(self, alice, stack, preview_run, path):
        response = web(alice).get(fill(path, stack, preview_run))
        assert response.status_code == 403
        assert "This page is for the service desk" in page(response)

    @pytest.mark.parametrize("path", POSTS)
    def test_end_user_cannot_write(self, alice, stack, preview_run, path):
        before = (ConfigurationItem.objects.count(), Relationship.objects.count())
        response = web(alice).post(
            fill(path, stack, preview_run),
            {"name": "Hijacked", "status": "live", "environment": "production",
             "kind": "depends_on:out", "target": str(stack["host"].pk), "version": "1"},
        )  # fmt: skip
        assert response.status_code == 403
        assert (ConfigurationItem.objects.count(), Relationship.objects.count()) == before
        assert ConfigurationItem.objects.get(pk=stack["app"].pk).name == "shop-app"
        assert ImportRun.objects.get(pk=preview_run.pk).status == "preview"

    @pytest.mark.parametrize("who", ["agent", "manager"])
    @pytest.mark.parametrize("path", PAGES)
    def test_staff_open_every_screen(self, request, stack, preview_run, who, path):
        response = web(request.getfixturevalue(who)).get(fill(path, stack, preview_run))
        assert response.status_code == 200

    def test_the_workspace_links_to_the_cmdb(self, agent):
        body = page(web(agent).get("/cmdb/"))
        assert 'href="/cmdb/" class="nav-link active">Configuration items</a>' in body

    def test_the_practice_map_knows_the_screen(self, agent):
        from practices.registry import PRACTICES

        assert PRACTICES["service_configuration"].url_name == "cmdb:list"

    def test_post_only_endpoints_refuse_get(self, agent, stack, preview_run):
        client = web(agent)
        for path in POSTS[2:4] + POSTS[5:]:
            assert client.get(fill(path, stack, preview_run)).status_code == 405

    def test_unknown_ci_is_404(self, agent):
        assert web(agent).get("/cmdb/999999/").status_code == 404
        assert web(agent).get("/cmdb/999999/map.json").status_code == 404


# The list ----------------------------------------------------------------------------------


class TestList:
    def test_every_ci_by_name(self, agent, stack):
        ids = listed(web(agent).get("/cmdb/"))
        assert ids == [stack[k].pk for k in ("host", "shop", "app", "db")]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("search=shop", ["shop", "app", "db"]),
            ("search=SN1", ["host"]),  # an identifier (serial number) finds its CI
            ("ci_class=hardware", ["host"]),  # a class includes its subclasses
            ("ci_class=database", ["db"]),
            ("status=live&environment=production", ["host", "shop", "app", "db"]),
            ("status=retired", []),
            ("attr_key=cpu_count&attr_value=8", ["host"]),
            ("attr_key=engine&attr_value=postgresql", ["db"]),
            ("attr_key=engine&attr_value=", ["host", "shop", "app", "db"]),
        ],
    )
    def test_filters(self, agent, stack, query, expected):
        ids = listed(web(agent).get(f"/cmdb/?{query}"))
        assert ids == [stack[k].pk for k in expected]

    def test_team_filters(self, agent, stack, service_desk, network_team):
        client = web(agent)
        assert listed(client.get(f"/cmdb/?owner_team={service_desk.pk}")) == [stack["app"].pk]
        assert listed(client.get(f"/cmdb/?support_team={network_team.pk}")) == [stack["db"].pk]
        # "mine": the agent is in the service desk
        assert listed(client.get("/cmdb/?owner_team=mine")) == [stack["app"].pk]

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("attr_key=cpu_count&attr_value=many", "attr.cpu_count: A whole number expected."),
            ("attr_key=nosuch&attr_value=1", "No CI class has an attribute nosuch."),
            ("ci_class=nosuch", "There is no CI class nosuch."),
            ("owner_team=abc", "Team ids separated by commas"),
        ],
    )
    def test_a_bad_filter_is_explained_not_a_500(self, agent, stack, query, message):
        response = web(agent).get(f"/cmdb/?{query}")
        assert listed(response) == []
        assert message in html.unescape(page(response))

    def test_sorting(self, agent, stack):
        services.update_ci(stack["db"], agent, {"status": "maintenance"})
        client = web(agent)
        assert listed(client.get("/cmdb/?ordering=status"))[-1] == stack["db"].pk
        assert listed(client.get("/cmdb/?ordering=-status"))[0] == stack["db"].pk
        assert listed(client.get("/cmdb/?ordering=-updated_at"))[0] == stack["db"].pk
        # Unknown orderings fall back to the name.
        assert listed(client.get("/cmdb/?ordering=password")) == listed(client.get("/cmdb/"))

    def test_htmx_gets_the_table_only(self, agent, stack):
        response = web(agent).get("/cmdb/?search=shop", headers={"HX-Request": "true"})
        assert "<html" not in page(response)
        assert len(listed(response)) == 3

    def test_load_more_pages_by_cursor(self, agent):
        for i in range(55):
            factories.ci(f"app-{i:02}")
        client = web(agent)
        first = client.get("/cmdb/?ordering=name")
        ids = listed(first)
        assert len(ids) == 50
        more = html.unescape(MORE.search(page(first)).group(1))
        rest = client.get(f"/cmdb/?{more}", headers={"HX-Request": "true"})
        assert "<table" not in page(rest)
        rest_ids = listed(rest)
        assert len(rest_ids) == 5 and not set(ids) & set(rest_ids)
        assert not MORE.search(page(rest))
        # A forged cursor shows the first page, never a 500.
        assert listed(client.get("/cmdb/?cursor=bm9wZQ")) == ids

    def test_query_count_does_not_grow_with_rows(self, agent, service_desk):
        client = web(agent)
        location = factories_location("HQ")
        for i in range(3):
            factories.ci(f"a{i}", owner_team=service_desk, support_team=service_desk,
                         location=location)  # fmt: skip
        few = count_queries(client, "/cmdb/?search=a&attr_key=vendor&attr_value=x")
        few_plain = count_queries(client, "/cmdb/")
        for i in range(3, 40):
            factories.ci(f"a{i}", "server", owner_team=service_desk, support_team=service_desk,
                         location=location, attributes={"hostname": f"a{i}"})  # fmt: skip
        assert count_queries(client, "/cmdb/?search=a&attr_key=vendor&attr_value=x") == few
        assert count_queries(client, "/cmdb/") == few_plain
        assert count_queries(client, "/cmdb/", HX_Request="true") <= few_plain


def factories_location(name):
    from itsm.accounts.models import Location

    return Location.objects.create(name=name)


# Create and edit ---------------------------------------------------------------------------


class TestCreate:
    def test_without_a_class_it_asks_for_one(self, agent):
        body = page(web(agent).get("/cmdb/new/"))
        assert 'href="/cmdb/new/?class=server">Server</a>' in body
        assert 'href="/cmdb/new/?class=business_service">Business service</a>' in body

    def test_one_typed_field_per_attribute_of_the_class_and_its_ancestors(self, agent):
        body = page(web(agent).get("/cmdb/new/?class=server"))
        # Server's own, and Hardware's (its parent)
        assert 'for="id_attr_hostname">Host name *</label>' in body
        assert 'for="id_attr_serial_number">Serial number</label>' in body
        assert re.search(r'<input type="number" name="attr_cpu_count"[^>]*step="1"', body) or (
            'type="number" name="attr_cpu_count"' in body
        )
        assert 'type="number" name="attr_memory_gb"' in body and 'step="any"' in body
        assert 'name="attr_hostname"' in body and "required" in field_block(body, "attr_hostname")
        choice = page(web(agent).get("/cmdb/new/?class=database"))
        assert '<select name="attr_engine"' in choice and '<option value="oracle">' in choice

    def test_created_with_its_attributes_and_history(self, agent, service_desk):
        client = web(agent)
        response = client.post(
            "/cmdb/new/?class=server",
            {"name": "web-01", "status": "in_build", "environment": "staging",
             "owner_team": service_desk.pk, "attr_hostname": "web-01",
             "attr_cpu_count": "4", "attr_memory_gb": "15.5", "attr_ip_address": "10.0.0.7"},
        )  # fmt: skip
        ci = ConfigurationItem.objects.get(name="web-01")
        assert response.status_code == 302 and response.url == f"/cmdb/{ci.pk}/"
        assert (ci.status, ci.environment, ci.owner_team) == ("in_build", "staging", service_desk)
        assert ci.attributes == {
            "hostname": "web-01",
            "cpu_count": 4,
            "memory_gb": 15.5,
            "ip_address": "10.0.0.7",
        }
        assert JournalEntry.objects.for_record(ci).filter(kind="created", actor=agent).exists()

    def test_bad_input_is_shown_next_to_each_field_and_nothing_is_saved(self, agent):
        response = web(agent).post(
            "/cmdb/new/?class=server",
            {"name": "", "status": "live", "environment": "production",
             "attr_cpu_count": "many", "attr_ip_address": "10.0.0.300"},
        )  # fmt: skip
        assert response.status_code == 400
        body = page(response)
        assert "This field is required." in field_block(body, "name")
        assert "This field is required." in field_block(body, "attr_hostname")
        assert "Enter a whole number." in field_block(body, "attr_cpu_count")
        assert "Enter a valid IPv4 or IPv6 address." in field_block(body, "attr_ip_address")
        # What was typed is kept.
        assert 'value="many"' in field_block(body, "attr_cpu_count")
        assert not ConfigurationItem.objects.exists()

    def test_a_taken_identifier_is_shown_on_its_attribute(self, agent, stack):
        response = web(agent).post(
            "/cmdb/new/?class=server",
            {"name": "db-02", "status": "live", "environment": "production",
             "attr_hostname": "db-02", "attr_serial_number": "sn1"},
        )  # fmt: skip
        assert response.status_code == 400
        block = field_block(html.unescape(page(response)), "attr_serial_number")
        assert f"db-01 (#{stack['host'].pk}) already has this serial number." in block
        assert not ConfigurationItem.objects.filter(name="db-02").exists()

    def test_a_taken_name_is_shown_on_the_name(self, agent, stack):
        response = web(agent).post(
            "/cmdb/new/?class=business_service",
            {"name": "ONLINE-shop", "status": "live", "environment": "production"},
        )
        assert response.status_code == 400
        assert "already has this name" in field_block(page(response), "name")
        assert ConfigurationItem.objects.filter(ci_class__key="business_service").count() == 1

    def test_service_attribute_errors_land_on_their_field(self, agent, monkeypatch):
        # Whatever the service reports about an attribute goes next to that attribute.
        def refuse(*args, **kwargs):
            raise ValidationError(
                {"attributes.hostname": "Host name taken.", "attributes.nosuch": "Unknown.",
                 "name": "Bad name.", "attributes": "Not an object."}
            )  # fmt: skip

        monkeypatch.setattr(services, "create_ci", refuse)
        response = web(agent).post(
            "/cmdb/new/?class=server",
            {"name": "x", "status": "live", "environment": "production", "attr_hostname": "x"},
        )
        body = page(response)
        assert response.status_code == 400
        assert "Host name taken." in field_block(body, "attr_hostname")
        assert "Bad name." in field_block(body, "name")
        assert "nosuch: Unknown." in body and "Not an object." in body


class TestEdit:
    def test_the_form_shows_the_current_values(self, agent, stack):
        body = page(web(agent).get(f"/cmdb/{stack['host'].pk}/edit/"))
        assert 'value="8"' in field_block(body, "attr_cpu_count")
        assert 'value="SN1"' in field_block(body, "attr_serial_number")
        assert '<input type="hidden" name="version" value="1">' in body

    def test_only_what_the_agent_changed_is_saved(self, agent, stack):
        host = stack["host"]
        client = web(agent)
        data = html_form(page(client.get(f"/cmdb/{host.pk}/edit/")), f"/cmdb/{host.pk}/edit/")
        data.update({"attr_cpu_count": "16", "status": "maintenance", "attr_domain": ""})
        response = client.post(f"/cmdb/{host.pk}/edit/", data)
        assert response.status_code == 302
        host.refresh_from_db()
        assert host.status == "maintenance" and host.version == 2
        assert host.attributes == {"hostname": "db-01", "serial_number": "SN1", "cpu_count": 16}
        entry = JournalEntry.objects.for_record(host).filter(kind="fields").get()
        assert entry.data == {
            "status": ["Live", "Maintenance"],
            "attributes.cpu_count": [8, 16],
            "attributes.domain": ["corp.example", None],
        }
        # Saving the form unchanged changes nothing.
        data = html_form(page(client.get(f"/cmdb/{host.pk}/edit/")), f"/cmdb/{host.pk}/edit/")
        assert client.post(f"/cmdb/{host.pk}/edit/", data).status_code == 302
        host.refresh_from_db()
        assert host.version == 2

    def test_bad_input_saves_nothing(self, agent, stack):
        host = stack["host"]
        client = web(agent)
        data = html_form(page(client.get(f"/cmdb/{host.pk}/edit/")), f"/cmdb/{host.pk}/edit/")
        data.update({"name": "renamed", "attr_cpu_count": "1.5", "attr_hostname": ""})
        response = client.post(f"/cmdb/{host.pk}/edit/", data)
        assert response.status_code == 400
        body = page(response)
        assert "Enter a whole number." in field_block(body, "attr_cpu_count")
        assert "This field is required." in field_block(body, "attr_hostname")
        host.refresh_from_db()
        assert (host.name, host.version, host.attributes["cpu_count"]) == ("db-01", 1, 8)

    def test_a_taken_identifier_on_edit(self, agent, stack):
        other = server(agent, "db-02", serial_number="SN2")
        client = web(agent)
        data = html_form(page(client.get(f"/cmdb/{other.pk}/edit/")), f"/cmdb/{other.pk}/edit/")
        data["attr_serial_number"] = "SN1"
        response = client.post(f"/cmdb/{other.pk}/edit/", data)
        assert response.status_code == 400
        assert "already has this serial number" in field_block(page(response), "attr_serial_number")
        other.refresh_from_db()
        assert other.attributes["serial_number"] == "SN2"

    def test_a_stale_version_is_a_conflict_not_an_overwrite(self, agent, agent2, stack):
        host = stack["host"]
        mine, theirs = web(agent), web(agent2)
        url = f"/cmdb/{host.pk}/edit/"
        data = html_form(page(mine.get(url)), url)
        other = html_form(page(theirs.get(url)), url)
        other["attr_cpu_count"] = "32"
        assert theirs.post(url, other).status_code == 302
        data["attr_memory_gb"] = "64"
        response = mine.post(url, data)
        assert response.status_code == 409
        body = page(response)
        assert "was changed by someone else while you were editing it" in body
        host.refresh_from_db()
        assert host.version == 2 and host.attributes["cpu_count"] == 32
        assert "memory_gb" not in host.attributes
        # The form now holds their change and mine, on the new version: saving it keeps both.
        retry = html_form(body, url)
        assert retry["version"] == "2"
        assert (retry["attr_cpu_count"], retry["attr_memory_gb"]) == ("32", "64")
        assert mine.post(url, retry).status_code == 302
        host.refresh_from_db()
        assert host.attributes["cpu_count"] == 32 and host.attributes["memory_gb"] == 64


# A CI's page -------------------------------------------------------------------------------


class TestDetail:
    def test_fields_attributes_and_relationships_both_ways(self, agent, stack):
        body = page(web(agent).get(f"/cmdb/{stack['db'].pk}/"))
        assert "<h1>shop-db</h1>" in body
        assert "<dt>Engine</dt><dd>postgresql</dd>" in body
        assert "<dt>Instance</dt><dd>main</dd>" in body
        # outgoing, read with the type's name; incoming with its reverse name
        assert re.search(rf'runs on</span> <a href="/cmdb/{stack["host"].pk}/">db-01</a>', body)
        assert re.search(rf'used by</span> <a href="/cmdb/{stack["app"].pk}/">shop-app</a>', body)

    def test_impact_and_dependencies(self, agent, stack):
        body = page(web(agent).get(f"/cmdb/{stack['host'].pk}/?depth=all"))
        impact = body[body.index('id="impact-panel"') : body.index('id="dependency-panel"')]
        # db-01 fails → shop-db (runs on it) → shop-app → the web shop (a business service)
        assert "(3 CIs affected)" in impact
        assert "Business services affected:" in impact and "online-shop" in impact
        assert re.search(r'<tr class="is-service">\s*<td><a href="/cmdb/\d+/">online-shop', impact)
        rows = re.findall(r'<td><a href="/cmdb/(\d+)/">[^<]+</a>.*?</td>\s*<td>(\d)</td>', impact,
                          re.DOTALL)  # fmt: skip
        assert rows == [
            (str(stack["db"].pk), "1"),
            (str(stack["app"].pk), "2"),
            (str(stack["shop"].pk), "3"),
        ]
        assert "runs on</span> this CI" in impact
        app = page(web(agent).get(f"/cmdb/{stack['app'].pk}/"))
        needs = app[app.index('id="dependency-panel"') : app.index("</section>")]
        assert 'Depends on <span class="muted">(2)</span>' in needs
        assert "db-01" in needs and "shop-db" in needs and "online-shop" not in needs
        # Read in the recorded direction: shop-app depends on shop-db, shop-db runs on db-01.
        assert 'this CI <span class="muted">depends on</span> it' in needs
        assert re.search(r'shop-db</a> <span class="muted">runs on</span> it', needs)

    def test_default_depth_is_the_maps(self, agent, stack):
        body = page(web(agent).get(f"/cmdb/{stack['host'].pk}/"))
        assert '<option value="2" selected' in body and "(2 CIs affected)" in body
        assert 'option value="all"' in body
        page_ = page(web(agent).get(f"/cmdb/{stack['host'].pk}/map/"))
        assert '<option value="2" selected' in page_

    def test_class_crumbs_leave_out_the_root_class(self, agent, stack):
        body = page(web(agent).get(f"/cmdb/{stack['host'].pk}/"))
        crumbs = body[
            body.index('<p class="crumbs">') : body.index("</p>", body.index('<p class="crumbs">'))
        ]
        assert "Configuration item \u203a" not in crumbs and "Server" in crumbs

    def test_depth_selector(self, agent, stack):
        client = web(agent)
        shallow = page(client.get(f"/cmdb/{stack['host'].pk}/?depth=1"))
        assert "(1 CI affected)" in shallow
        fragment = client.get(
            f"/cmdb/{stack['host'].pk}/?panel=impact&depth=2", headers={"HX-Request": "true"}
        )
        assert "<html" not in page(fragment)
        assert "(2 CIs affected)" in page(fragment)
        assert 'option value="2" selected' in page(fragment)

    def test_open_incidents_only(self, agent, alice, stack, priority_matrix):
        open_one = factories.incident(
            alice, actor=agent, title="DB slow", configuration_items=[stack["db"]]
        )
        done = factories.incident(
            alice, actor=agent, title="DB down", configuration_items=[stack["db"]]
        )
        factories.resolve(done, agent)
        body = page(web(agent).get(f"/cmdb/{stack['db'].pk}/"))
        panel = body[body.index('id="panel-incidents"') :]
        assert f'href="/incidents/{open_one.number}/"' in panel
        assert done.number not in panel

    def test_history_shows_who_when_and_old_to_new(self, agent, stack):
        services.update_ci(stack["host"], agent, {"attributes": {"cpu_count": 12}})
        body = page(web(agent).get(f"/cmdb/{stack['host'].pk}/"))
        history = body[body.index('class="timeline history"') :]
        assert "<b>Agent</b>" in history and "changed" in history
        assert "<li><b>CPUs</b>: 8 → 12</li>" in history
        assert "created this CI" in history and "related it" in history
        assert "<time datetime=" in history

    def test_query_count_does_not_grow(
        self, agent, alice, stack, priority_matrix, django_assert_max_num_queries
    ):
        client = web(agent)
        db = stack["db"]
        factories.incident(alice, actor=agent, configuration_items=[db])
        services.update_ci(db, agent, {"status": "maintenance"})
        few = count_queries(client, f"/cmdb/{db.pk}/")
        for i in range(6):
            app = services.create_ci(agent, ci_class="application", name=f"app-{i}")
            services.relate(agent, app, rtype("depends_on"), db)
            services.relate(agent, db, rtype("connects_to"), app)
            factories.incident(alice, actor=agent, title=f"i{i}", configuration_items=[db])
            services.update_ci(db, agent, {"description": f"v{i}"})
        services.relate(agent, stack["host"], rtype("depends_on"), server(agent, "nas-1"))
        assert count_queries(client, f"/cmdb/{db.pk}/") == few
        with django_assert_max_num_queries(few):
            response = client.get(f"/cmdb/{db.pk}/")
        assert page(response).count("app-5") >= 2


class TestRelationships:
    def post(self, agent, ci, **data):
        return web(agent).post(f"/cmdb/{ci.pk}/relationships/", data)

    def test_add_from_the_suggestions(self, agent, stack):
        client = web(agent)
        options = page(client.get(f"/cmdb/lookup/?target=db-&exclude={stack['app'].pk}"))
        assert f'<option value="db-01 #{stack["host"].pk}">Server · Live</option>' in options
        response = self.post(
            agent, stack["app"], kind="runs_on:out", target=f"db-01 #{stack['host'].pk}"
        )
        assert response.status_code == 302
        assert Relationship.objects.filter(
            source=stack["app"], type__key="runs_on", target=stack["host"]
        ).exists()

    def test_add_the_other_way_by_id_or_name(self, agent, stack):
        self.post(agent, stack["host"], kind="runs_on:in", target=str(stack["app"].pk))
        assert Relationship.objects.filter(
            source=stack["app"], type__key="runs_on", target=stack["host"]
        ).exists()
        self.post(agent, stack["host"], kind="contains:out", target="SHOP-DB")
        assert Relationship.objects.filter(
            source=stack["host"], type__key="contains", target=stack["db"]
        ).exists()

    @pytest.mark.parametrize(
        ("target", "message"),
        [
            ("nothing", "No CI &#x27;nothing&#x27;"),
            ("999999", "No CI &#x27;999999&#x27;"),
            ("{self}", "A CI cannot be related to itself."),
            ("{db}", "shop-app already depends on shop-db."),
        ],
    )
    def test_errors_are_shown_next_to_the_other_ci(self, agent, stack, target, message):
        before = Relationship.objects.count()
        target = target.format(self=stack["app"].pk, db=stack["db"].pk)
        response = self.post(agent, stack["app"], kind="depends_on:out", target=target)
        assert response.status_code == 400
        assert message in field_block(page(response), "target")
        assert Relationship.objects.count() == before

    def test_remove(self, agent, stack):
        rel = Relationship.objects.get(source=stack["app"], target=stack["db"])
        # From either end.
        response = web(agent).post(f"/cmdb/{stack['db'].pk}/relationships/{rel.pk}/remove/")
        assert response.status_code == 302
        assert not Relationship.objects.filter(pk=rel.pk).exists()
        entry = JournalEntry.objects.for_record(stack["app"]).filter(kind="link").last()
        assert entry.body == "Relationship removed: depends on shop-db"

    def test_remove_through_another_ci_is_404(self, agent, stack):
        rel = Relationship.objects.get(source=stack["app"], target=stack["db"])
        response = web(agent).post(f"/cmdb/{stack['host'].pk}/relationships/{rel.pk}/remove/")
        assert response.status_code == 404
        assert Relationship.objects.filter(pk=rel.pk).exists()


# Service map -------------------------------------------------------------------------------


class TestMap:
    def test_the_page_loads_the_vendored_library_only(self, agent, stack):
        body = page(web(agent).get(f"/cmdb/{stack['db'].pk}/map/"))
        assert '<script src="/static/vendor/cytoscape/cytoscape.min.js"></script>' in body
        assert f'data-url="/cmdb/{stack["db"].pk}/map.json"' in body
        assert not re.search(r'(src|href)="(https?:)?//', body)

    def test_data(self, agent, stack, django_assert_max_num_queries):
        client = web(agent)
        with django_assert_max_num_queries(8):
            data = client.get(f"/cmdb/{stack['db'].pk}/map.json?depth=1").json()
        assert data["centre"] == str(stack["db"].pk) and data["depth"] == 1
        # Depth 1, and the business service the outage reaches one step further.
        assert {n["name"] for n in data["nodes"]} == {"shop-db", "shop-app", "db-01", "online-shop"}
        node = next(n for n in data["nodes"] if n["name"] == "db-01")
        assert node == {
            "id": str(stack["host"].pk),
            "name": "db-01",
            "class": "Server",
            "class_key": "server",
            "status": "live",
            "status_label": "Live",
            "is_service": False,
            "depth": 1,
            "url": f"/cmdb/{stack['host'].pk}/",
            "map_url": f"/cmdb/{stack['host'].pk}/map/",
            "data_url": f"/cmdb/{stack['host'].pk}/map.json",
        }
        assert sorted((e["source"], e["target"], e["label"], e["spreads"]) for e in data["edges"]) == sorted(
            [
                (str(stack["shop"].pk), str(stack["app"].pk), "depends on", "to_source"),
                (str(stack["app"].pk), str(stack["db"].pk), "depends on", "to_source"),
                (str(stack["db"].pk), str(stack["host"].pk), "runs on", "to_source"),
            ]
        )  # fmt: skip
        assert data["truncated"] is False
        everything = web(agent).get(f"/cmdb/{stack['db'].pk}/map.json?depth=4").json()
        assert len(everything["nodes"]) == 4
        assert next(n for n in everything["nodes"] if n["name"] == "online-shop")["is_service"]

    def test_truncated_when_the_limit_is_hit(self, agent, stack, monkeypatch):
        from cmdb import views

        monkeypatch.setattr(views, "MAP_LIMIT", 2)
        data = web(agent).get(f"/cmdb/{stack['db'].pk}/map.json?depth=3").json()
        assert data["truncated"] is True and len(data["nodes"]) == 2

    @pytest.mark.parametrize("depth", ["0", "9", "x", ""])
    def test_bad_depth_falls_back_to_two(self, agent, stack, depth):
        data = web(agent).get(f"/cmdb/{stack['host'].pk}/map.json?depth={depth}").json()
        assert data["depth"] == 2


# CSV import --------------------------------------------------------------------------------

CSV = (
    "class,name,hostname,cpu_count,rel.depends_on\n"
    "server,srv-9,srv-9,4,\n"
    "server,srv-bad,srv-bad,many,\n"
    "application,ledger,,,\n"
    "application,billing,,,application:ledger\n"
)


class TestImport:
    def test_the_form_lists_data_sources(self, agent, discovery):
        body = page(web(agent).get("/cmdb/import/"))
        assert f'<option value="{discovery.pk}">Discovery</option>' in body

    def test_the_run_page_shows_row_outcomes_and_the_apply_button(self, agent, preview_run):
        body = html.unescape(page(web(agent).get(f"/cmdb/import/{preview_run.pk}/")))
        assert "Import preview: Discovery" in body
        assert '<tr class="action-error">' in body
        assert "attributes.cpu_count: A whole number expected." in body
        assert f'action="/cmdb/import/{preview_run.pk}/apply/"' in body

    def test_a_malformed_file_is_an_error_on_the_file(self, agent, discovery):
        pytest.importorskip("cmdb.imports")
        upload = SimpleUploadedFile("cis.csv", b"just,a,header\n", content_type="text/csv")
        response = web(agent).post("/cmdb/import/", {"data_source": discovery.pk, "file": upload})
        assert response.status_code == 400
        assert "missing: class, name" in field_block(page(response), "file")
        assert not ImportRun.objects.exists()

    def test_not_utf8(self, agent, discovery):
        upload = SimpleUploadedFile("cis.csv", b"class,name\n\xff\xfe", content_type="text/csv")
        response = web(agent).post("/cmdb/import/", {"data_source": discovery.pk, "file": upload})
        assert response.status_code == 400
        assert "not UTF-8" in field_block(page(response), "file")

    def test_preview_then_apply(self, agent, discovery):
        pytest.importorskip("cmdb.imports")
        client = web(agent)
        upload = SimpleUploadedFile("cis.csv", CSV.encode(), content_type="text/csv")
        response = client.post("/cmdb/import/", {"data_source": discovery.pk, "file": upload})
        run = ImportRun.objects.get()
        assert response.status_code == 302 and response.url == f"/cmdb/import/{run.pk}/"
        assert not ConfigurationItem.objects.exists()  # a preview writes no CI
        body = html.unescape(page(client.get(response.url)))
        assert "Import preview" in body and "Nothing has been changed yet." in body
        assert "<b>3</b>to create" in body and "<b>1</b>with errors" in body
        assert "srv-bad" in body and "whole number" in body
        apply = html_form(body, f"/cmdb/import/{run.pk}/apply/")
        response = client.post(f"/cmdb/import/{run.pk}/apply/", apply)
        assert response.status_code == 302
        assert set(ConfigurationItem.objects.values_list("name", flat=True)) == {
            "srv-9",
            "ledger",
            "billing",
        }
        assert Relationship.objects.filter(source__name="billing", target__name="ledger").exists()
        body = page(client.get(response.url))
        assert "Import applied: Discovery" in body and "apply-import" not in body
        # Applying twice does nothing more.
        response = client.post(f"/cmdb/import/{run.pk}/apply/", apply)
        assert ConfigurationItem.objects.count() == 3
        assert "already applied" in page(client.get(response.url))


def test_classes_are_installed(db):
    # The screens rely on the standard classes the app installs after migrate.
    assert CIClass.objects.filter(key="server", parent__key="hardware").exists()


@pytest.mark.django_db
def test_a_business_service_is_named_once(agent):
    """The class name is the badge: no "Business service service"."""
    from tests.factories import ci, page, web

    service = ci("Payroll", class_key="business_service")
    for url in ("/cmdb/", f"/cmdb/{service.pk}/"):
        body = page(web(agent).get(url))
        assert '<span class="badge service">Business service</span>' in body, url
        assert ">business service</span>" not in body
        assert ">service</span>" not in body
