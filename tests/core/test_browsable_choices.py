"""The browsable API's forms offer only what the person may see: an end user's incident
form lists none of other people's incidents, no CI and no other person."""

import pytest

from practices.assets.models import Supplier
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_end_users_forms_list_nothing_they_may_not_see(api_as, alice, bob, agent):
    mine = factories.incident(alice, title="My own printer")
    theirs = factories.incident(bob, title="Bob's secret reorganisation")
    factories.ci("payroll-db-01")
    Supplier.objects.create(name="Hush Hush Hardware Ltd")
    bob.last_name = "Brownlow"
    bob.save()
    for url in (
        "/api/v1/incidents/?format=api",
        f"/api/v1/incidents/{mine.number}/?format=api",
        "/api/v1/assets/?format=api",
        "/api/v1/requests/?format=api",
    ):
        html = api_as(alice).get(url).content.decode()
        assert theirs.number not in html and "secret reorganisation" not in html, url
        assert "payroll-db-01" not in html, url
        assert "Brownlow" not in html, url  # no list of people
        assert "Hush Hush" not in html, url  # nor the suppliers (staff only)


def test_an_end_user_cannot_tell_a_staff_only_id_from_a_missing_one(api_as, alice, agent):
    ci = factories.ci("payroll-db-01")
    supplier = Supplier.objects.create(name="Hush Hush Hardware Ltd")
    client = api_as(alice)
    answers = []
    for pk in (ci.pk, 987654):
        answer = client.post(
            "/api/v1/incidents/",
            {"title": "Slow", "configuration_items": [pk]},
            format="json",
        )
        answers.append((answer.status_code, str(answer.json()).replace(str(pk), "N")))
    assert answers[0] == answers[1] and answers[0][0] == 400
    assert not ci.incidents.exists()
    listed = [client.get(f"/api/v1/assets/?supplier={pk}") for pk in (supplier.pk, 987654)]
    assert listed[0].status_code == listed[1].status_code
    assert str(listed[0].json()).replace(str(supplier.pk), "N") == str(listed[1].json()).replace(
        "987654", "N"
    )
