"""Theme (system / light / dark) and density (comfortable / compact): chosen on the
preferences page, kept per person, and carried by every page as attributes of <html>."""

import re

import pytest

from itsm.accounts.models import Density, Theme

FORM = {
    "first_name": "Alice",
    "last_name": "Anders",
    "email": "alice@example.com",
    "phone": "",
    "time_zone": "UTC",
}


def html_attributes(response) -> dict[str, str]:
    tag = re.search(r"<html\b[^>]*>", response.content.decode()).group(0)
    return dict(re.findall(r'(data-[\w-]+)="([^"]*)"', tag))


@pytest.mark.django_db
def test_a_new_person_follows_the_device_in_comfortable_density(client, alice):
    client.force_login(alice)
    assert html_attributes(client.get("/", follow=True)) == {
        "data-theme": "system",
        "data-density": "comfortable",
    }


@pytest.mark.django_db
def test_saved_theme_and_density_are_kept_and_every_page_carries_them(client, agent, alice):
    client.force_login(agent)
    page = client.get("/me/").content.decode()
    assert 'name="theme"' in page and 'name="density"' in page
    response = client.post(
        "/me/", {**FORM, "email": "agent@example.com", "theme": "dark", "density": "compact"}
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.theme, agent.density) == (Theme.DARK, Density.COMPACT)
    for url in ("/work/", "/incidents/", "/me/", "/"):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert html_attributes(response) == {"data-theme": "dark", "data-density": "compact"}, url
    # Someone else's pages keep their own choice.
    client.force_login(alice)
    assert html_attributes(client.get("/", follow=True)) == {
        "data-theme": "system",
        "data-density": "comfortable",
    }


@pytest.mark.django_db
def test_the_sign_in_page_follows_the_device(client):
    assert html_attributes(client.get("/login/")) == {
        "data-theme": "system",
        "data-density": "comfortable",
    }


@pytest.mark.django_db
def test_one_saves_only_ones_own_preferences(client, alice, bob):
    client.force_login(alice)
    # There is no way to name someone else: a stray id is ignored, only Alice changes.
    response = client.post("/me/", {**FORM, "id": bob.pk, "username": "bob", "theme": "light"})
    assert response.status_code == 302
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.theme == Theme.LIGHT
    assert bob.theme == Theme.SYSTEM and bob.username == "bob"


@pytest.mark.django_db
def test_signed_out_people_cannot_save_a_theme(client, alice):
    response = client.post("/me/", {**FORM, "theme": "dark", "density": "compact"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    alice.refresh_from_db()
    assert (alice.theme, alice.density) == (Theme.SYSTEM, Density.COMFORTABLE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value", [("theme", "neon"), ("density", "tiny"), ("theme", ""), ("density", "")]
)
def test_an_unknown_theme_or_density_is_refused_and_nothing_saved(client, alice, field, value):
    client.force_login(alice)
    data = {**FORM, "first_name": "Changed", "theme": "dark", "density": "compact", field: value}
    response = client.post("/me/", data)
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert f'id="id_{field}"' in response.content.decode()
    alice.refresh_from_db()
    assert (alice.first_name, alice.theme, alice.density) == (
        "Alice",
        Theme.SYSTEM,
        Density.COMFORTABLE,
    )


@pytest.mark.django_db
def test_the_preferences_page_spends_few_queries(client, alice, django_assert_max_num_queries):
    client.force_login(alice)
    with django_assert_max_num_queries(8):
        assert client.get("/me/").status_code == 200
    with django_assert_max_num_queries(8):
        assert (
            client.post("/me/", {**FORM, "theme": "dark", "density": "compact"}).status_code == 302
        )
