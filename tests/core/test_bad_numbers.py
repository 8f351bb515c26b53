"""Numbers typed by people (filters, form versions, depths) are checked before they reach
int() or the database: a 400 or "no such thing", never a 500, on SQLite as on PostgreSQL."""

import pytest

from itsm.core.views import parse_id
from tests.factories import web

pytestmark = pytest.mark.django_db

HUGE = "9" * 30


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("²", None),
        ("٣", None),
        ("1.5", None),
        ("-1", None),
        (HUGE, None),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        ("", None),
        (None, None),
    ],
)
def test_parse_id(raw, value):
    assert parse_id(raw) == value


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/problems/?service={HUGE}",
        f"/api/v1/known-errors/?service={HUGE}",
        "/api/v1/problems/?service=1.5",
        f"/api/v1/incidents/?service={HUGE}",
        f"/api/v1/incidents/?assignment_group={HUGE}",
        f"/api/v1/articles/?category={HUGE}",
        f"/api/v1/cis/?location={HUGE}",
        f"/api/v1/relationships/?ci={HUGE}",
    ],
)
def test_huge_or_fractional_ids_in_filters_are_a_400(api_as, agent, url):
    assert api_as(agent).get(url).status_code == 400


def test_screens_take_odd_numbers_calmly(agent, priority_matrix):
    client = web(agent)
    assert client.get(f"/problems/?service={HUGE}").status_code in (200, 400)
    assert client.get(f"/portal/catalogue/?category={HUGE}").status_code == 200
    assert client.get(f"/cmdb/lookup/?q=x&exclude={HUGE}").status_code == 200
