"""Calendars and agreements through the API: administrators define, staff read."""

import pytest

from practices.service_level.models import Agreement, BusinessCalendar, Target

pytestmark = pytest.mark.django_db
CALENDARS = "/api/v1/business-calendars/"
AGREEMENTS = "/api/v1/sla-agreements/"

OFFICE = {
    "name": "Munich office",
    "time_zone": "Europe/Berlin",
    "holiday_country": "DE",
    "holiday_subdivision": "BY",
    "working_periods": [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
    "closed_days": [{"date": "2026-12-24", "name": "Christmas Eve"}],
}


def agreement_payload(calendar_id, **extra):
    return {
        "name": "Gold",
        "record_type": "incidents.incident",
        "priorities": "1,2",
        "targets": [
            {
                "name": "Respond in 30m",
                "metric": "response",
                "duration": "00:30:00",
                "calendar": calendar_id,
            },
            {
                "name": "Resolve in 8h",
                "metric": "resolution",
                "duration": "08:00:00",
                "calendar": calendar_id,
            },
        ],
        "thresholds": [{"percent": 75}, {"percent": 100, "notify_team_manager": True}],
        **extra,
    }


def test_administrator_defines_a_calendar(api_as, admin_user):
    response = api_as(admin_user).post(CALENDARS, OFFICE, format="json")
    assert response.status_code == 201, response.content
    calendar = BusinessCalendar.objects.get(name="Munich office")
    assert calendar.working_periods.count() == 5
    assert str(calendar.closed_days.get().date) == "2026-12-24"
    body = response.json()
    assert body["working_periods"][0] == {"weekday": 0, "start": "09:00:00", "end": "17:00:00"}


def test_changing_hours_replaces_them_and_renews_the_cached_engine(api_as, admin_user):
    created = api_as(admin_user).post(CALENDARS, OFFICE, format="json").json()
    response = api_as(admin_user).patch(
        f"{CALENDARS}{created['id']}/",
        {"working_periods": [{"weekday": 0, "start": "08:00", "end": "12:00"}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["version"] > created["version"]
    assert BusinessCalendar.objects.get().working_periods.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        (
            {"working_periods": [{"weekday": 0, "start": "17:00", "end": "09:00"}]},
            "working_periods[0].end",
        ),
        (
            {"working_periods": [{"weekday": 9, "start": "09:00", "end": "17:00"}]},
            "working_periods",
        ),
        ({"working_periods": []}, "working_periods"),
        ({"closed_days": [{"date": "2026-12-24"}, {"date": "2026-12-24"}]}, "closed_days[1].date"),
    ],
)
def test_bad_calendars_are_400_naming_the_field_and_save_nothing(api_as, admin_user, change, field):
    response = api_as(admin_user).post(CALENDARS, {**OFFICE, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not BusinessCalendar.objects.exists()


def test_administrator_defines_an_agreement_that_then_applies(
    api_as, admin_user, agent, alice, always
):
    response = api_as(admin_user).post(AGREEMENTS, agreement_payload(always.pk), format="json")
    assert response.status_code == 201, response.content
    gold = Agreement.objects.get(name="Gold")
    assert gold.targets.count() == 2
    assert list(gold.thresholds.values_list("percent", flat=True)) == [75, 100]
    created = api_as(agent).post(
        "/api/v1/incidents/", {"title": "ERP down", "caller": "alice", "impact": 1, "urgency": 1}
    )
    sla = created.json()["sla"]
    assert {entry["name"] for entry in sla} == {"Respond in 30m", "Resolve in 8h"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"record_type": "accounts.user"}, "record_type"),
        ({"record_type": "nonsense"}, "record_type"),
        ({"priorities": "high"}, "priorities"),
        ({"kind": "ola"}, "team"),
        ({"kind": "uc", "supplier": "PrintCo"}, "run_when"),
        ({"pause_when": {"state": "on_hold"}}, "pause_when"),
        ({"targets": []}, "targets"),
        ({"thresholds": [{"percent": 150}]}, "thresholds"),
    ],
)
def test_bad_agreements_are_400_naming_the_field_and_save_nothing(
    api_as, admin_user, always, change, field
):
    response = api_as(admin_user).post(
        AGREEMENTS, agreement_payload(always.pk, **change), format="json"
    )
    assert response.status_code == 400, response.content
    assert any(key.startswith(field) for key in response.json()), response.json()
    assert not Agreement.objects.exists()
    assert not Target.objects.exists()


def test_targets_in_use_cannot_be_changed(api_as, admin_user, agent, alice, always):
    gold = api_as(admin_user).post(AGREEMENTS, agreement_payload(always.pk), format="json").json()
    api_as(agent).post(
        "/api/v1/incidents/", {"title": "ERP down", "caller": "alice", "impact": 1, "urgency": 1}
    )
    changed = agreement_payload(always.pk)
    changed["targets"][1]["duration"] = "04:00:00"
    response = api_as(admin_user).put(f"{AGREEMENTS}{gold['id']}/", changed, format="json")
    assert response.status_code == 400
    assert "make a new agreement" in response.json()["targets"][0]
    assert Target.objects.get(metric="resolution").duration.total_seconds() == 8 * 3600


def test_staff_read_but_only_administrators_write(api_as, admin_user, agent, alice, always):
    api_as(admin_user).post(AGREEMENTS, agreement_payload(always.pk), format="json")
    assert api_as(agent).get(AGREEMENTS).status_code == 200
    assert api_as(agent).get(CALENDARS).status_code == 200
    assert api_as(agent).post(CALENDARS, OFFICE, format="json").status_code == 403
    assert api_as(alice).get(AGREEMENTS).status_code == 403
    assert not BusinessCalendar.objects.filter(name="Munich office").exists()


def test_admin_screen_refuses_a_calendar_without_hours(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    data = {
        "name": "Never open",
        "time_zone": "UTC",
        "holiday_country": "",
        "holiday_subdivision": "",
        "working_periods-TOTAL_FORMS": "0",
        "working_periods-INITIAL_FORMS": "0",
        "closed_days-TOTAL_FORMS": "0",
        "closed_days-INITIAL_FORMS": "0",
    }
    response = client.post("/admin/service_level/businesscalendar/add/", data)
    assert response.status_code == 200
    assert "needs working hours" in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Never open").exists()
    data["working_periods-TOTAL_FORMS"] = "1"
    data.update(
        {
            "working_periods-0-weekday": "0",
            "working_periods-0-start": "09:00",
            "working_periods-0-end": "17:00",
        }
    )
    assert client.post("/admin/service_level/businesscalendar/add/", data).status_code == 302
    assert BusinessCalendar.objects.get(name="Never open").working_periods.count() == 1
