"""SLA badges that cannot be misread: each names its agreement, times carry the reader's
time zone (on the panel and on the timeline alike), and end users never see an OLA."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from practices.service_level import reports
from practices.service_level.models import Timer
from tests import factories
from tests.factories import page, web
from tests.service_level.conftest import agreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_ola(always, service_desk):
    return agreement(
        "Service desk OLA", always, resolution=timedelta(hours=2), kind="ola", team=service_desk
    )


@pytest.fixture
def incident(standard_sla, desk_ola, alice, agent, service_desk):
    return factories.incident(alice, actor=agent, title="Mail down", assignment_group=service_desk)


def test_the_panel_names_each_agreement_and_its_kind(incident, agent):
    body = page(web(agent).get(f"/incidents/{incident.number}/"))
    panel = body[body.index("Service levels") :]
    assert '<span class="sla-name">Standard</span>' in panel
    assert '<span class="sla-name">Service desk OLA</span>' in panel
    assert ">OLA Resolve " in panel and ">SLA Resolve " in panel
    assert 'title="Service desk OLA · Resolve in 2:00:00: due ' in panel


def test_times_are_in_the_readers_zone_and_say_so(incident, agent):
    agent.time_zone = "Asia/Tokyo"
    agent.save()
    timer = Timer.objects.get(
        object_id=incident.pk, agreement__name="Standard", metric="resolution"
    )
    tokyo = timezone.localtime(timer.due_at, timezone=__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    body = page(web(agent).get(f"/incidents/{incident.number}/"))
    expected = tokyo.strftime("%Y-%m-%d %H:%M") + " JST"
    # The panel and the timeline (written by whoever started the clock, in UTC) agree.
    assert f"due {expected}" in body
    timeline = body[body.index('class="timeline') :]
    assert re.search(rf"Resolve in 4:00:00: started \(Standard\), due {expected}", timeline)
    assert "UTC" not in timeline


def test_the_stored_entry_keeps_an_explicit_zone_for_the_api(incident):
    from itsm.core.i18n import Said
    from itsm.core.models import JournalEntry

    entry = JournalEntry.objects.filter(object_id=incident.pk, kind="sla").first()
    assert entry.body.endswith("UTC")  # written where no reader's zone was active
    # The sentence is kept as worded (each reader reads it in their language), the moment
    # as a placeholder each reader sees in their own zone.
    assert entry.data["at"] and "{at}" in Said.from_data(entry.data["said"]).in_english()


def test_end_users_never_see_an_ola_over_the_api(incident, alice, agent):
    api = APIClient()
    api.force_authenticate(alice)
    sla = api.get(f"/api/v1/incidents/{incident.number}/").json()["sla"]
    assert {t["kind"] for t in sla} == {"sla"}
    assert {t["agreement"] for t in sla} == {"Standard"}
    api.force_authenticate(agent)
    sla = api.get(f"/api/v1/incidents/{incident.number}/").json()["sla"]
    assert {t["kind"] for t in sla} == {"sla", "ola"}


def test_the_portal_promise_has_no_jargon_and_no_ola(incident, alice):
    body = page(web(alice).get(f"/portal/issues/{incident.number}/"))
    assert "We aim to resolve this by" in body
    assert "OLA" not in body and "SLA Resolve" not in body
    assert re.search(r"<b>\w{3} \d+ \w{3}, \d\d:\d\d UTC</b>", body)


def test_the_report_does_not_repeat_a_kind_the_name_says():
    row = {"agreement__name": "Network team OLA", "agreement__kind": "ola"}
    assert reports.label_of("agreement", row) == ("Network team OLA", "")
    row = {"agreement__name": "Standard", "agreement__kind": "sla"}
    assert reports.label_of("agreement", row) == ("Standard", "SLA")
