"""The CI picker other forms use: it lists the chosen CIs only, and finds others by name."""

import pytest

from incidents import services as incident_services
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db


def test_incident_form_lists_only_the_chosen_cis(agent, alice, priority_matrix):
    cis = [factories.ci(f"app-{i:02}") for i in range(30)]
    incident = factories.incident(alice, actor=agent, title="Mail down")
    incident_services.update_incident(incident, agent, {"configuration_items": [cis[3]]})
    client = web(agent)
    html = page(client.get(f"/incidents/{incident.number}/"))
    assert f'<option value="{cis[3].pk}" selected>app-03 (Application)</option>' in html
    assert "app-04" not in html
    # The search box's suggestions come from the CMDB lookup.
    suggestions = page(client.get("/cmdb/lookup/", {"q": "app-1"}))
    assert f"app-10 #{cis[10].pk}" in suggestions and "app-03" not in suggestions


def test_posting_picked_cis(agent, alice, priority_matrix):
    cis = [factories.ci(f"app-{i}") for i in range(3)]
    client = web(agent)
    response = client.post(
        "/incidents/new/",
        {
            "title": "ERP slow",
            "caller": alice.username,
            "impact": 3,
            "urgency": 3,
            "configuration_items": [cis[0].pk, cis[2].pk],
        },
    )
    assert response.status_code == 302, page(response)[:2000]
    from incidents.models import Incident

    incident = Incident.objects.get(title="ERP slow")
    assert set(incident.configuration_items.all()) == {cis[0], cis[2]}
    bad = client.post(
        "/incidents/new/",
        {
            "title": "x",
            "caller": alice.username,
            "impact": 3,
            "urgency": 3,
            "configuration_items": [999999],
        },
    )
    assert bad.status_code == 400 and "999999" in page(bad)
