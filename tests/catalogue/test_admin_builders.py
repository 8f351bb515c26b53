"""The catalogue item's admin: questions' choices, conditions and defaults posted as the
builder rows write them, checked together like answers are checked; the approval policy
checked level by level; only administrators with the permission get in."""

import json

import pytest
from django.contrib.auth.models import Permission

from catalogue.models import ApprovalLevel, Variable
from tests.conftest import make_user
from tests.factories import html_form, laptop_item, page, team, web

pytestmark = pytest.mark.django_db


def change_url(item):
    return f"/admin/catalogue/catalogueitem/{item.pk}/change/"


@pytest.fixture
def item(db):
    return laptop_item()


@pytest.fixture
def admin_web(admin_user):
    return web(admin_user)


def item_form(client, item) -> dict:
    """The change page's form as a browser would post it."""
    return html_form(page(client.get(change_url(item))), "", name=item.name)


def add_question(data, index, **fields):
    data["variables-TOTAL_FORMS"] = str(index + 1)
    row = {
        "name": "",
        "label": "",
        "type": "text",
        "order": "100",
        "help_text": "",
        "default": "",
        "choices": "[]",
        "regex": "",
        "show_when": "{}",
        "require_when": "{}",
        **fields,
    }
    for name, value in row.items():
        if name == "required" and not value:
            continue
        data[f"variables-{index}-{name}"] = value
    data[f"variables-{index}-item"] = data.get("variables-0-item", "")


def set_question(data, index, **fields):
    for name, value in fields.items():
        data[f"variables-{index}-{name}"] = value


def problems_on_page(html) -> list[dict]:
    found = []
    for block in html.split('<div class="builder-data" hidden>')[1:]:
        scripts = block.split("</div>", 1)[0].split('<script type="application/json">')[1:]
        found.extend(json.loads(scripts[1].split("</script>", 1)[0]))
    return found


def test_questions_saved_from_rows_are_the_json_the_api_serves(admin_web, api_as, agent, item):
    data = item_form(admin_web, item)
    choices = [{"value": "mac", "label": "MacBook"}, {"value": "thinkpad", "label": "ThinkPad"}]
    set_question(data, 0, choices=json.dumps(choices), default='"thinkpad"')
    add_question(data, 1, name="replace", label="Replaces a laptop?", type="boolean")
    add_question(
        data,
        2,
        name="old_tag",
        label="Old asset tag",
        show_when=json.dumps({"variable": "replace", "equals": True}),
        require_when=json.dumps({"variable": "model", "equals": "mac"}),
    )
    response = admin_web.post(change_url(item), data)
    assert response.status_code == 302, problems_on_page(page(response))
    model = item.variables.get(name="model")
    assert model.choices == choices
    assert model.default == "thinkpad"
    old_tag = item.variables.get(name="old_tag")
    assert old_tag.show_when == {"variable": "replace", "equals": True}
    assert old_tag.require_when == {"variable": "model", "equals": "mac"}
    served = api_as(agent).get(f"/api/v1/catalogue/items/{item.pk}/").json()
    by_name = {v["name"]: v for v in served["variables"]}
    assert by_name["model"]["choices"] == choices
    assert by_name["model"]["default"] == "thinkpad"
    assert by_name["old_tag"]["show_when"] == {"variable": "replace", "equals": True}


def test_the_page_offers_the_builders_and_the_json(admin_web, item):
    html = page(admin_web.get(change_url(item)))
    assert 'data-builder="choices"' in html
    assert 'data-builder="variable-condition"' in html
    assert 'data-builder="default"' in html
    assert "Advanced (JSON)" in html
    assert "js/builders.js" in html


@pytest.mark.parametrize(
    ("row", "field", "text"),
    [
        ({"default": '"dell"'}, "default", "As the default: Choose one of: mac, thinkpad."),
        ({"default": "7"}, "default", "As the default: Expected text."),
        (
            {"choices": json.dumps([{"value": "mac"}, {"value": "mac"}])},
            "choices",
            "&#x27;mac&#x27; is listed twice.",
        ),
        ({"choices": json.dumps([{"value": ""}])}, "choices", "A choice needs a value."),
        (
            {"show_when": json.dumps({"variable": "colour", "equals": "red"})},
            "show_when",
            "This item has no question &#x27;colour&#x27;.",
        ),
        (
            {"require_when": json.dumps({"variable": "replace", "equals": "yes"})},
            "require_when",
            "Replaces a laptop?: Expected yes or no (true/false).",
        ),
    ],
)
def test_a_wrong_row_is_refused_on_its_row_and_nothing_is_saved(admin_web, item, row, field, text):
    data = item_form(admin_web, item)
    add_question(data, 1, name="replace", label="Replaces a laptop?", type="boolean")
    set_question(data, 0, **row)
    response = admin_web.post(change_url(item), data)
    assert response.status_code == 200
    html = page(response)
    assert text in html
    # The problem goes to the row's builder too.
    assert any(text.replace("&#x27;", "'") in p["message"] for p in problems_on_page(html))
    assert not item.variables.filter(name="replace").exists()
    assert item.variables.get(name="model").default is None


def test_a_default_user_must_exist(admin_web, item, alice):
    data = item_form(admin_web, item)
    add_question(data, 1, name="for_whom", label="For whom", type="user", default='"nobody"')
    response = admin_web.post(change_url(item), data)
    assert response.status_code == 200
    assert "As the default: There is no active user nobody." in page(response)
    data["variables-1-default"] = '"alice"'
    assert admin_web.post(change_url(item), data).status_code == 302
    assert item.variables.get(name="for_whom").default == "alice"


def test_questions_shown_only_on_each_other_are_refused(admin_web, item):
    data = item_form(admin_web, item)
    add_question(
        data, 1, name="a", label="A", show_when=json.dumps({"variable": "b", "equals": "x"})
    )
    add_question(
        data, 2, name="b", label="B", show_when=json.dumps({"variable": "a", "equals": "x"})
    )
    response = admin_web.post(change_url(item), data)
    assert response.status_code == 200
    assert "none would ever show" in page(response)
    assert item.variables.count() == 1


def test_a_condition_on_a_question_being_added_alongside_is_fine(admin_web, item):
    """The rows are checked together: a condition may name a question of the same post."""
    data = item_form(admin_web, item)
    add_question(
        data,
        1,
        name="colour",
        label="Colour",
        show_when=json.dumps({"variable": "model", "equals": "mac"}),
    )
    assert admin_web.post(change_url(item), data).status_code == 302
    assert item.variables.get(name="colour").show_when == {"variable": "model", "equals": "mac"}


def add_level(data, index, **fields):
    data["approval_levels-TOTAL_FORMS"] = str(index + 1)
    for name, value in {"order": str(index + 1), "kind": "manager", "team": "", **fields}.items():
        data[f"approval_levels-{index}-{name}"] = value


@pytest.mark.parametrize(
    ("levels", "text"),
    [
        ([{"order": "1"}, {"order": "1", "kind": "team_any", "team": "staffed"}], "given twice"),
        ([{"kind": "manager", "team": "staffed"}], "leave the team empty"),
        ([{"kind": "team_all", "team": "empty"}], "Nobody in this team could approve"),
        ([{"kind": "team_any"}], "Name the team that approves."),
    ],
)
def test_a_wrong_approval_policy_is_refused_on_its_row(admin_web, item, agent, levels, text):
    teams = {"staffed": team("Approvers", members=[agent]), "empty": team("Nobody")}
    data = item_form(admin_web, item)
    for index, level in enumerate(levels):
        if level.get("team"):
            level = {**level, "team": str(teams[level["team"]].pk)}
        add_level(data, index, **level)
    response = admin_web.post(change_url(item), data)
    assert response.status_code == 200
    assert text in page(response)
    assert not ApprovalLevel.objects.exists()


def test_a_good_approval_policy_is_saved(admin_web, item, agent):
    approvers = team("Approvers", members=[agent])
    data = item_form(admin_web, item)
    add_level(data, 0)
    add_level(data, 1, kind="team_all", team=str(approvers.pk))
    assert admin_web.post(change_url(item), data).status_code == 302
    assert list(item.approval_levels.values_list("order", "kind", "team")) == [
        (1, "manager", None),
        (2, "team_all", approvers.pk),
    ]


def test_who_may_edit_items(client, agent, item):
    data = {"name": "Hacked"}
    assert client.get(change_url(item)).status_code == 302
    assert web(agent).get(change_url(item)).status_code == 302
    bare = make_user("bare_staff", "agent", is_staff=True)
    assert web(bare).get(change_url(item)).status_code == 403
    assert web(bare).post(change_url(item), data).status_code == 403
    bare.user_permissions.add(Permission.objects.get(codename="view_catalogueitem"))
    assert web(bare).post(change_url(item), data).status_code == 403
    item.refresh_from_db()
    assert item.name == "New laptop"
    assert Variable.objects.filter(item=item).count() == 1


def test_the_page_holds_its_query_count(admin_web, item, django_assert_max_num_queries):
    """More questions, the same queries (their titles name the item without a query each)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert admin_web.get(change_url(item)).status_code == 200
        return len(captured.captured_queries)

    count()
    few = count()
    for n in range(10):
        Variable.objects.create(item=item, name=f"q{n}", label=f"Q{n}")
    assert count() <= few
    with django_assert_max_num_queries(20):
        admin_web.get(change_url(item))
