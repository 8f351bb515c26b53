import pytest

from practices.service_desk.models import SavedView
from tests.factories import incident


@pytest.fixture
def incidents(alice, agent, service_desk):
    return {
        "major": incident(alice, agent, title="Mail down for everyone", major=True),
        "p1": incident(alice, agent, title="ERP slow", impact=1, urgency=1),
        "low": incident(alice, agent, title="Mouse squeaks"),
    }


def numbers(response):
    return {i.number for i in response.context["incidents"]}


@pytest.mark.django_db
def test_agent_saves_filters_and_gets_them_back(client, agent, incidents):
    client.force_login(agent)
    response = client.post(
        "/views/",
        {"list_key": "incidents", "name": "Urgent", "query": "priority=1&open=true&cursor=abc"},
    )
    view = SavedView.objects.get(owner=agent, name="Urgent")
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/?saved={view.pk}"
    assert view.query == "priority=1&open=true"  # the page cursor is not part of a view
    page = client.get(f"/incidents/?saved={view.pk}")
    assert numbers(page) == {incidents["p1"].number}
    assert "Urgent" in page.content.decode()
    # Saving the same name again replaces the filters.
    client.post("/views/", {"list_key": "incidents", "name": "Urgent", "query": "major=true"})
    assert SavedView.objects.filter(owner=agent).count() == 1
    assert numbers(client.get(f"/incidents/?saved={view.pk}")) == {incidents["major"].number}


@pytest.mark.django_db
def test_saved_views_are_private(client, agent, agent2, incidents):
    view = SavedView.objects.create(
        owner=agent, list_key="incidents", name="Mine", query="major=true"
    )
    client.force_login(agent2)
    page = client.get(f"/incidents/?saved={view.pk}")
    assert "Mine" not in page.content.decode()
    assert numbers(page) == {i.number for i in incidents.values()}  # unknown view: no filter
    assert client.post(f"/views/{view.pk}/delete/").status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.django_db
def test_delete_own_view(client, agent):
    view = SavedView.objects.create(owner=agent, list_key="incidents", name="Old", query="")
    client.force_login(agent)
    response = client.post(f"/views/{view.pk}/delete/", {"next": "/incidents/"})
    assert response.status_code == 302
    assert response["Location"] == "/incidents/"
    assert not SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"list_key": "incidents", "name": "  ", "query": ""}, 302),
        ({"list_key": "incidents", "name": "x" * 81, "query": ""}, 302),
        ({"list_key": "nonsense", "name": "Bad", "query": ""}, 404),
    ],
)
def test_bad_view_is_refused_and_nothing_saved(client, agent, data, status):
    client.force_login(agent)
    response = client.post("/views/", data)
    assert response.status_code == status
    assert not SavedView.objects.exists()


@pytest.mark.django_db
def test_end_users_have_no_saved_views(client, alice):
    client.force_login(alice)
    response = client.post("/views/", {"list_key": "incidents", "name": "X", "query": ""})
    assert response.status_code == 403
    assert not SavedView.objects.exists()


@pytest.mark.django_db
def test_an_offsite_next_is_not_followed(client, agent):
    client.force_login(agent)
    response = client.post(
        "/views/", {"list_key": "incidents", "name": "", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_a_view_saved_after_live_filtering_keeps_those_filters(client, agent, incidents):
    """Filtering swaps the table in (htmx) without reloading the page: the views bar comes
    with it, so "Save view" saves what is shown, and the "All" tab is no longer marked."""
    import re

    client.force_login(agent)
    first = client.get("/incidents/?view=all").content.decode()
    assert re.search(
        r'href="/incidents/\?view=all" class="active" aria-selected="true">All</a>', first
    )
    live = client.get("/incidents/", {"major": "true", "open": "true"}, HTTP_HX_REQUEST="true")
    fragment = live.content.decode()
    assert 'id="view-tabs" role="tablist" aria-label="Views" hx-swap-oob="true"' in fragment
    assert 'id="view-query"' in fragment
    query = re.search(r'id="view-query" value="([^"]*)"', fragment).group(1).replace("&amp;", "&")
    assert sorted(query.split("&")) == ["major=true", "open=true"]
    assert not re.search(r'class="active" aria-selected="true">All</a>', fragment)
    client.post("/views/", {"list_key": "incidents", "name": "Majors", "query": query})
    view = SavedView.objects.get(owner=agent, name="Majors")
    assert numbers(client.get(f"/incidents/?saved={view.pk}")) == {incidents["major"].number}


@pytest.mark.django_db
def test_loading_more_rows_does_not_swap_the_views_bar(client, agent, incidents):
    client.force_login(agent)
    more = client.get("/incidents/", {"cursor": "x"}, HTTP_HX_REQUEST="true")
    assert "view-tabs" not in more.content.decode()
    assert "view-query" not in more.content.decode()
