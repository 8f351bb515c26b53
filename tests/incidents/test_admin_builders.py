"""The priority matrix as one grid in the admin: impact down, urgency across; checked
cells, saved together, and only for administrators with the permission."""

import pytest
from django.contrib.auth.models import Permission

from incidents.models import PriorityRule
from tests.conftest import DEFAULT_PRIORITY_MATRIX, make_user
from tests.factories import html_form, page, web

pytestmark = pytest.mark.django_db
URL = "/admin/incidents/priorityrule/"


def grid(client) -> dict:
    return html_form(page(client.get(URL)), "")


def matrix() -> dict:
    return {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()}


def test_the_grid_shows_the_matrix(admin_user, priority_matrix):
    response = web(admin_user).get(URL)
    assert response.status_code == 200
    data = html_form(page(response), "")
    assert data["cell_1_1"] == "1"
    assert data["cell_2_3"] == "4"
    assert data["cell_3_3"] == "5"
    assert "Impact 1 - High, urgency 3 - Low" in page(response)


def test_a_changed_cell_is_saved_and_used_for_new_incidents(
    admin_user, priority_matrix, api_as, agent, alice
):
    client = web(admin_user)
    data = grid(client)
    data["cell_3_3"] = "4"
    response = client.post(URL, data)
    assert response.status_code == 302
    assert "Priority changed for impact 3 - Low with urgency 3 - Low." in page(
        client.get(response["Location"])
    )
    assert matrix() == {**DEFAULT_PRIORITY_MATRIX, (3, 3): 4}
    created = api_as(agent).post(
        "/api/v1/incidents/", {"title": "Slow", "caller": "alice", "impact": 3, "urgency": 3}
    )
    assert created.json()["priority"] == 4


def test_missing_cells_are_filled_in(admin_user, priority_matrix):
    PriorityRule.objects.filter(impact=2, urgency=2).delete()
    client = web(admin_user)
    data = grid(client)
    assert data["cell_2_2"] == "3"  # the default the incidents would get
    assert client.post(URL, data).status_code == 302
    assert matrix() == DEFAULT_PRIORITY_MATRIX


@pytest.mark.parametrize(
    ("cell", "value", "text"),
    [
        ("cell_1_1", "4", "a higher impact or urgency never lowers the priority"),
        ("cell_2_2", "9", "Select a valid choice."),
        ("cell_2_2", "", "This field is required."),
    ],
)
def test_a_wrong_cell_is_refused_beside_it_and_nothing_is_saved(
    admin_user, priority_matrix, cell, value, text
):
    client = web(admin_user)
    data = grid(client)
    data[cell] = value
    data["cell_3_3"] = "4"  # a good change in the same post is not saved either
    response = client.post(URL, data)
    assert response.status_code == 400
    html = page(response)
    assert text in html
    # The error is in the cell's own table cell.
    cell_html = html.split(f'name="{cell}"', 1)[1].split("</td>", 1)[0]
    assert text in cell_html
    assert matrix() == DEFAULT_PRIORITY_MATRIX


def test_who_may_edit_the_matrix(client, agent, priority_matrix):
    data = {f"cell_{i}_{u}": "1" for i in (1, 2, 3) for u in (1, 2, 3)}
    assert client.post(URL, data).status_code == 302  # to sign in
    assert web(agent).post(URL, data).status_code == 302  # no admin staff: to sign in
    staff = make_user("bare_staff", "agent", is_staff=True)
    assert web(staff).get(URL).status_code == 403
    assert web(staff).post(URL, data).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_priorityrule"))
    viewer = web(staff)
    html = page(viewer.get(URL))
    assert 'name="cell_1_1"' in html and "disabled" in html.split('name="cell_1_1"', 1)[1][:200]
    assert 'name="_save"' not in html
    assert viewer.post(URL, data).status_code == 403
    assert matrix() == DEFAULT_PRIORITY_MATRIX


def test_no_adding_or_deleting_single_cells(admin_user, priority_matrix):
    client = web(admin_user)
    assert client.get(f"{URL}add/").status_code == 403
    rule = PriorityRule.objects.first()
    assert client.post(f"{URL}{rule.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PriorityRule.objects.count() == 9


def test_the_grid_holds_its_query_count(admin_user, priority_matrix, django_assert_max_num_queries):
    client = web(admin_user)
    client.get(URL)
    with django_assert_max_num_queries(6):
        assert client.get(URL).status_code == 200
