"""The list bar every queue has: how many match (counted up to a cap, without a query when
one screen holds them all) and the columns chooser."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.views import IncidentScreens
from itsm.core import pagination
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db


def count_text(body: str) -> str:
    return re.search(r'<span class="list-count" aria-live="polite">([^<]*)</span>', body).group(1)


@pytest.fixture
def six(agent, alice, priority_matrix):
    return [factories.incident(alice, actor=agent, title=f"Printer {i}") for i in range(6)]


def queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        body = page(client.get(path))
    return body, len(captured)


def test_one_screen_is_counted_without_a_query(agent, six):
    client = web(agent)
    client.get("/incidents/")
    body, _ = queries(client, "/incidents/")
    assert count_text(body) == "6 incidents"
    body = page(client.get("/incidents/", {"search": "Printer 3"}))
    assert count_text(body) == "1 incident"


def test_more_than_a_screen_costs_one_capped_count(agent, six, monkeypatch):
    client = web(agent)
    client.get("/incidents/")
    _, fitting = queries(client, "/incidents/")
    monkeypatch.setattr(IncidentScreens, "page_size", 4)
    body, paged = queries(client, "/incidents/")
    assert count_text(body) == "6 incidents"
    assert paged == fitting + 1
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    body = page(client.get("/incidents/"))
    assert count_text(body) == "More than 5 incidents"
    # The next rows ("Load more") are not counted again.
    more = re.search(r'<tr class="more"><td[^>]*><a href="\?([^"]+)"', body).group(1)
    more = more.replace("&amp;", "&")
    rows = page(client.get(f"/incidents/?{more}", headers={"HX-Request": "true"}))
    assert "list-count" not in rows


def test_the_columns_menu_lists_every_column(agent, six):
    body = page(web(agent).get("/incidents/"))
    menu = re.search(r'<details class="dropdown columns-menu".*?</details>', body, re.S).group(0)
    labels = re.findall(r'data-column="(\d+)" checked> ([^<]+)</label>', menu)
    # the bulk checkbox is column 1: the declared columns start at 2
    assert labels[0][0] == "2"
    assert [label for _, label in labels] == [
        c.label or "(no heading)" for c in IncidentScreens.columns
    ]
