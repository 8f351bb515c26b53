"""The portal home shows an employee the devices assigned to them, and nobody else's."""

import pytest

from tests.assets.helpers import deployed
from tests.factories import page, web

pytestmark = pytest.mark.django_db


def test_my_devices_on_the_portal_home(agent, alice, bob):
    deployed(agent, "LT-0001", user=alice, model="ThinkPad T14", serial_number="PF-1")
    deployed(agent, "LT-0002", user=bob, model="MacBook Air")
    html = page(web(alice).get("/portal/"))
    assert "My devices" in html and "LT-0001" in html and "ThinkPad T14" in html
    assert "LT-0002" not in html


def test_no_panel_without_devices(alice):
    assert "My devices" not in page(web(alice).get("/portal/"))
