"""The agreement's admin form: conditions posted as the builder rows write them (JSON),
checked by the rule the API uses, priorities as tick boxes; only administrators with the
permission get in."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from catalogue.models import Service
from incidents.models import Category
from itsm.accounts.models import Team
from practices.service_level import conditions
from practices.service_level.models import Agreement
from tests.conftest import make_user
from tests.factories import html_form, page, web

from .conftest import agreement

pytestmark = pytest.mark.django_db
ADD = "/admin/service_level/agreement/add/"
AGREEMENTS = "/api/v1/sla-agreements/"


def change_url(pk):
    return f"/admin/service_level/agreement/{pk}/change/"


@pytest.fixture
def admin_web(admin_user):
    return web(admin_user)


def add_form(client, **fields) -> dict:
    """The add page's form as a browser would post it, with ``fields`` changed."""
    html = page(client.get(ADD))
    data = html_form(html, "", name="")
    data.update(
        {
            "name": "Gold",
            "targets-TOTAL_FORMS": "1",
            "targets-0-name": "Resolve in 8h",
            "targets-0-metric": "resolution",
            "targets-0-duration": "08:00:00",
        }
    )
    data.update(fields)
    return data


def builder_data(html) -> list[tuple[dict, list]]:
    """Each builder's data on the page: what it offers and the problems to show."""
    found = []
    for block in html.split('<div class="builder-data" hidden>')[1:]:
        scripts = block.split("</div>", 1)[0].split('<script type="application/json">')[1:]
        config, problems = (json.loads(s.split("</script>", 1)[0]) for s in scripts)
        found.append((config, problems))
    return found


def incident_type():
    from django.contrib.contenttypes.models import ContentType

    from incidents.models import Incident

    return ContentType.objects.get_for_model(Incident)


def test_the_form_offers_the_evaluators_attributes_and_values(admin_web, always):
    Category.objects.create(name="Network")
    response = admin_web.get(ADD)
    assert response.status_code == 200
    html = page(response)
    # The builder's data: per record type, the attributes the profile gives the evaluator.
    config, problems = builder_data(html)[0]
    assert problems == []
    assert config["shape"] == "one"
    assert set(config["operators"]) == set(conditions.OPERATORS)
    offered = {a["name"]: a for a in config["types"][str(incident_type().pk)]}
    assert set(offered) == set(conditions.attributes(incident_type().model_class()))
    assert ["on_hold", "On hold"] in offered["state"]["values"]
    assert ["awaiting_supplier", "Awaiting supplier"] in offered["on_hold_reason"]["values"]
    assert [Category.objects.get().pk, "Network"] in offered["category"]["values"]
    # Priorities are tick boxes, the JSON is still there ("Advanced (JSON)").
    assert 'type="checkbox" name="priorities" value="1"' in html
    assert "Advanced (JSON)" in html
    assert 'name="pause_when"' in html


def test_builder_json_is_saved_as_the_api_would_store_it(admin_web, api_as, admin_user, always):
    pause = [{"state": "on_hold", "on_hold_reason": ["awaiting_caller", "awaiting_supplier"]}]
    applies = {"impact": [1, 2], "major": False}
    data = add_form(
        admin_web,
        record_type=str(incident_type().pk),
        priorities=["1", "2"],
        conditions=json.dumps(applies),
        pause_when=json.dumps(pause),
        **{"targets-0-calendar": str(always.pk)},
    )
    response = admin_web.post(ADD, data)
    assert response.status_code == 302, page(response)
    saved = Agreement.objects.get(name="Gold")
    assert saved.priorities == "1,2"
    assert saved.priority_set == {1, 2}
    assert saved.pause_when == pause
    assert saved.conditions == applies
    assert saved.run_when == []
    # The API stores the same JSON for the same conditions, and returns it.
    payload = {
        "name": "Gold by API",
        "record_type": "incidents.incident",
        "priorities": "1,2",
        "conditions": applies,
        "pause_when": pause,
        "targets": [
            {
                "name": "Resolve in 8h",
                "metric": "resolution",
                "duration": "08:00:00",
                "calendar": always.pk,
            }
        ],
    }
    created = api_as(admin_user).post(AGREEMENTS, payload, format="json")
    assert created.status_code == 201, created.content
    by_api = Agreement.objects.get(name="Gold by API")
    assert (by_api.priorities, by_api.pause_when, by_api.conditions) == (
        saved.priorities,
        saved.pause_when,
        saved.conditions,
    )
    shown = api_as(admin_user).get(f"{AGREEMENTS}{saved.pk}/").json()
    assert shown["pause_when"] == pause
    assert shown["priorities"] == "1,2"


def test_the_change_form_shows_the_saved_priorities_ticked(admin_web, always):
    gold = agreement("Gold", always, resolution=timedelta(hours=8), priorities="2, 1")
    html = page(admin_web.get(change_url(gold.pk)))
    assert 'value="1" id="id_priorities_0" checked' in html
    assert 'value="2" id="id_priorities_1" checked' in html
    assert 'value="3" id="id_priorities_2" checked' not in html


@pytest.mark.parametrize(
    ("field", "value", "group", "attribute", "text"),
    [
        ("pause_when", [{"state": "hold"}], 0, "state", "'hold' is not one of"),
        ("pause_when", [{"state": "on_hold"}, {"colour": "red"}], 1, "colour", "No attribute"),
        ("pause_when", [{}], 0, None, "at least one attribute"),
        ("pause_when", {"state": "on_hold"}, None, None, "A list of conditions"),
        ("run_when", [{"on_hold_reason": []}], 0, "on_hold_reason", "at least one value"),
        ("conditions", {"category": [999999]}, None, "category", "no category 999999"),
        ("conditions", {"major": "yes"}, None, "major", "Yes or no"),
        ("conditions", {"service": 10**30}, None, "service", "is not an id of a service"),
        ("conditions", {"priority": "1"}, None, "priority", "'1' is not one of"),
    ],
)
def test_a_wrong_row_is_shown_on_its_row_and_nothing_is_saved(
    admin_web, always, field, value, group, attribute, text
):
    data = add_form(
        admin_web,
        record_type=str(incident_type().pk),
        **{field: json.dumps(value), "targets-0-calendar": str(always.pk)},
    )
    response = admin_web.post(ADD, data)
    assert response.status_code == 200
    html = page(response)
    assert text in html
    # The problem comes back with where it is, for the builder to put it on its row.
    placed = [p for _, problems in builder_data(html) for p in problems]
    assert any(
        p["group"] == group and p["attribute"] == attribute and text in p["message"] for p in placed
    ), placed
    # What was posted is shown again, for correcting.
    assert json.dumps(value).replace('"', "&quot;") in html
    assert not Agreement.objects.exists()


def test_the_api_refuses_the_same_rows_naming_the_field(api_as, admin_user, always):
    payload = {
        "name": "Gold",
        "record_type": "incidents.incident",
        "pause_when": [{"state": "on_hold"}, {"state": "hold"}],
        "targets": [
            {"name": "R", "metric": "resolution", "duration": "08:00:00", "calendar": always.pk}
        ],
    }
    response = api_as(admin_user).post(AGREEMENTS, payload, format="json")
    assert response.status_code == 400
    assert response.json()["pause_when"] == [
        "Condition 2, State: 'hold' is not one of: 'new', 'in_progress', 'on_hold', "
        "'resolved', 'closed', 'cancelled'."
    ]
    assert not Agreement.objects.exists()


def test_json_that_does_not_parse_is_refused_without_javascript(admin_web, always):
    data = add_form(
        admin_web,
        record_type=str(incident_type().pk),
        pause_when='[{"state": "on_hold"',
        **{"targets-0-calendar": str(always.pk)},
    )
    response = admin_web.post(ADD, data)
    assert response.status_code == 200
    assert "Enter a valid JSON." in page(response)
    assert not Agreement.objects.exists()


def test_conditions_follow_the_record_type(admin_web, always):
    """A request's agreement may name the item, not an incident's on-hold reason."""
    from django.contrib.contenttypes.models import ContentType

    from catalogue.models import ServiceRequest

    request_type = ContentType.objects.get_for_model(ServiceRequest)
    data = add_form(
        admin_web,
        record_type=str(request_type.pk),
        pause_when=json.dumps([{"on_hold_reason": "awaiting_caller"}]),
        **{"targets-0-calendar": str(always.pk)},
    )
    response = admin_web.post(ADD, data)
    assert response.status_code == 200
    assert "No attribute &#x27;on_hold_reason&#x27;" in page(response)
    data["pause_when"] = json.dumps([{"state": "awaiting_approval"}])
    assert admin_web.post(ADD, data).status_code == 302
    assert Agreement.objects.get().pause_when == [{"state": "awaiting_approval"}]


def test_only_record_types_with_service_levels_are_offered(admin_web, always):
    html = page(admin_web.get(ADD))
    select = html.split('name="record_type"', 1)[1].split("</select>", 1)[0]
    assert f'value="{incident_type().pk}"' in select
    assert "Incident" in select
    assert "User" not in select


def test_the_threshold_addresses_are_one_line(admin_web, always):
    gold = agreement("Gold", always, resolution=timedelta(hours=8), thresholds=[50, 100])
    html = page(admin_web.get(change_url(gold.pk)))
    assert '<textarea name="thresholds-0-notify_addresses"' not in html
    assert 'name="thresholds-0-notify_addresses"' in html


def test_who_may_edit_agreements(client, agent, always):
    gold = agreement("Gold", always, resolution=timedelta(hours=8))
    data = {"name": "Hacked", "pause_when": "[]"}
    # Anonymous: to the sign-in page.
    assert client.get(change_url(gold.pk)).status_code == 302
    # An agent is no staff of the admin site: sent to sign in.
    assert web(agent).get(change_url(gold.pk)).status_code == 302
    assert web(agent).post(change_url(gold.pk), data).status_code == 302
    # Staff of the admin site without the permission: refused.
    bare = make_user("bare_staff", "agent", is_staff=True)
    assert not bare.is_superuser and not bare.has_perm("service_level.change_agreement")
    assert web(bare).get(change_url(gold.pk)).status_code == 403
    assert web(bare).post(change_url(gold.pk), data).status_code == 403
    assert web(bare).post(ADD, data).status_code == 403
    # With the permission to view only: the page, no saving.
    bare.user_permissions.add(Permission.objects.get(codename="view_agreement"))
    viewer = web(bare)
    assert viewer.get(change_url(gold.pk)).status_code == 200
    assert viewer.post(change_url(gold.pk), data).status_code == 403
    gold.refresh_from_db()
    assert gold.name == "Gold"


def test_the_page_holds_its_query_count(admin_web, always, django_assert_max_num_queries):
    """The values on offer cost one query per related model, however many there are."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    gold = agreement("Gold", always, resolution=timedelta(hours=8), thresholds=[50])

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert admin_web.get(change_url(gold.pk)).status_code == 200
        return len(captured.captured_queries)

    count()  # warm caches (content types)
    few = count()
    top = Category.objects.create(name="Top")
    for n in range(10):
        Category.objects.create(name=f"Category {n}", parent=top)  # named with the parent
    Team.objects.create(name="Network")
    Service.objects.create(name="E-mail")
    assert count() <= few
    with django_assert_max_num_queries(35):
        admin_web.get(change_url(gold.pk))


def test_the_attributes_are_those_the_profile_gives_the_evaluator(alice, agent):
    from incidents.models import Incident
    from practices.service_level import registry
    from tests.factories import incident

    made = incident(alice, actor=agent)
    given = registry.profile_for(Incident).attributes(made)
    assert list(conditions.attributes(Incident)) == list(given)
    # Every value a real record has is accepted as a condition on it.
    assert conditions.problems(Incident, [given], "any") == []


def test_a_profile_that_cannot_name_its_attributes_leaves_the_shape_check(monkeypatch):
    from dataclasses import replace

    from incidents.models import Incident
    from practices.service_level import registry

    def broken(record):
        raise ValueError("needs a saved record")

    profile = replace(registry.profile_for(Incident), attributes=broken)
    monkeypatch.setattr(registry, "profile_for", lambda model: profile)
    assert conditions.attributes(Incident) == {}
    assert conditions.problems(Incident, [{"anything": 1}], "any") == []
    assert conditions.problems(Incident, {"anything": 1}, "any")[0].message.startswith("A list")


def test_the_list_still_edits_order_and_active(admin_web, always):
    gold = agreement(
        "Gold", always, resolution=timedelta(hours=8), pause_when=[{"state": "on_hold"}]
    )
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(gold.pk),
        "form-0-order": "7",
        "_save": "Save",
    }
    response = admin_web.post("/admin/service_level/agreement/", data)
    assert response.status_code == 302
    gold.refresh_from_db()
    assert (gold.order, gold.active) == (7, False)
    assert gold.pause_when == [{"state": "on_hold"}]
