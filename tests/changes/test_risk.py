"""The change risk engine: ordered risk rules over named facts, the model's weighted
questionnaire, the probability x impact matrix over the CMDB blast radius and the change
success score; the highest wins, every contribution is shown; overrides need a reason."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from changes import risk, services
from changes.models import (
    Change,
    ChangeModel,
    ClosureCode,
    Conflict,
    Question,
    Questionnaire,
    RiskAnswer,
    RiskRule,
)
from cmdb import services as cmdb_services
from cmdb.impact import IMPACT, walk, walk_from
from cmdb.models import RelationshipType
from itsm.core.models import JournalEntry
from tests import factories
from tests.factories import ci, html_form, page, web

pytestmark = pytest.mark.django_db

ALWAYS = [{"fact": "ci_count", "op": "gte", "value": 0}]


def rule(name, risk_level, conditions=ALWAYS, order=100, models=(), active=True):
    made = RiskRule(name=name, risk=risk_level, conditions=conditions, order=order, active=active)
    made.full_clean()
    made.save()
    made.change_models.set(models)
    return made


def relate(source, key, target):
    return cmdb_services.relate(None, source, RelationshipType.objects.get(key=key), target)


def reasons(change, source):
    return [r for r in Change.objects.get(pk=change.pk).risk_reasons if r["source"] == source]


def fact(change, name):
    return next(r["value"] for r in reasons(change, "fact") if r["name"] == name)


def journal(change):
    return list(
        JournalEntry.objects.filter(object_id=change.pk, content_type__model="change")
        .order_by("pk")
        .values_list("body", flat=True)
    )


@pytest.fixture
def estate(db):
    """Two business services on one host: ERP (gold: business-critical) depends on the
    SAP application, which runs on a VM on the host; Wi-Fi (silver) depends on an
    application that runs on the same host directly. A switch the host connects to is not
    affected by the host's outage."""
    made = {
        "erp": ci("ERP", "business_service", attributes={"service_level": "gold"}),
        "wifi": ci("Office Wi-Fi", "business_service", attributes={"service_level": "silver"}),
        "sap": ci("SAP", "application"),
        "ctl": ci("Wi-Fi controller", "application"),
        "vm": ci("erp-vm-1", "virtual_machine"),
        "host": ci("esx-01", "server"),
        "switch": ci("sw-core-1", "network_device"),
    }
    relate(made["erp"], "depends_on", made["sap"])
    relate(made["wifi"], "depends_on", made["ctl"])
    relate(made["sap"], "runs_on", made["vm"])
    relate(made["vm"], "runs_on", made["host"])
    relate(made["ctl"], "runs_on", made["host"])
    relate(made["host"], "connects_to", made["switch"])
    return made


@pytest.fixture
def questionnaire(normal_model):
    made = Questionnaire.objects.create(name="Normal change risk", moderate_from=10, high_from=20)
    Question.objects.create(
        questionnaire=made,
        order=1,
        text="Has it been tested?",
        choices=[
            {"value": "yes", "label": "Yes, in staging", "weight": 0},
            {"value": "no", "label": "No", "weight": 10},
        ],
    )
    Question.objects.create(
        questionnaire=made,
        order=2,
        text="How many users are affected?",
        choices=[
            {"value": "few", "label": "Fewer than 10", "weight": 1},
            {"value": "some", "label": "Up to 500", "weight": 5},
            {"value": "all", "label": "Everyone", "weight": 9},
        ],
    )
    normal_model.questionnaire = made
    normal_model.save()
    return made


def questions(questionnaire):
    return {q.order: q for q in questionnaire.questions.all()}


# Rules --------------------------------------------------------------------------------------


def test_a_plain_change_is_low_risk_with_its_reasons(make_change):
    change = make_change()
    assert change.risk == "low" and change.impact == "low" and change.probability == "low"
    assert change.risk_calculated_at is not None
    assert {r["source"] for r in change.risk_reasons} == {"fact", "matrix"}
    assert set(risk.FACTS) <= {r["name"] for r in reasons(change, "fact")}
    assert "Risk calculated: low." in journal(change)


def test_the_first_active_rule_in_order_wins(make_change, normal_model, standard_model):
    rule("Everything is high (inactive)", "high", order=1, active=False)
    rule("Only standard changes are high", "high", order=2, models=[standard_model])
    rule("Normal changes are moderate", "moderate", order=3, models=[normal_model])
    rule("Everything is high", "high", order=4)
    change = make_change()
    assert change.risk == "moderate"
    (matched,) = reasons(change, "rule")
    assert matched["name"] == "Normal changes are moderate" and matched["result"] == "moderate"
    assert matched["value"] == [{**ALWAYS[0], "actual": 0}] and matched["decisive"]


def test_a_rule_whose_conditions_do_not_all_hold_is_passed_over(make_change):
    rule(
        "Many CIs and an outage",
        "high",
        [
            {"fact": "ci_count", "op": "gte", "value": 1},
            {"fact": "outage_expected", "op": "true"},
        ],
        order=1,
    )
    rule("No backout plan", "moderate", [{"fact": "has_backout_plan", "op": "false"}], order=2)
    change = make_change(outage_expected=True)
    assert change.risk == "moderate"
    assert reasons(change, "rule")[0]["name"] == "No backout plan"


def test_the_highest_result_wins_over_a_lower_rule(make_change, estate):
    rule("Everything is low", "low", order=1)
    change = make_change(configuration_items=[estate["host"]])
    # The matrix says more: a business-critical service is reached.
    assert change.impact == "high" and change.risk == "moderate"
    assert reasons(change, "rule")[0]["decisive"] is False


FACTS = {
    "lead_time_hours": 24.0,
    "outage_expected": True,
    "in_blackout": False,
    "model_kind": "normal",
    "team_success_rate": None,
}


@pytest.mark.parametrize(
    "condition, expected",
    [
        ({"fact": "lead_time_hours", "op": "eq", "value": 24}, True),
        ({"fact": "lead_time_hours", "op": "eq", "value": 25}, False),
        ({"fact": "lead_time_hours", "op": "ne", "value": 25}, True),
        ({"fact": "lead_time_hours", "op": "ne", "value": 24}, False),
        ({"fact": "lead_time_hours", "op": "lt", "value": 48}, True),
        ({"fact": "lead_time_hours", "op": "lt", "value": 24}, False),
        ({"fact": "lead_time_hours", "op": "lte", "value": 24}, True),
        ({"fact": "lead_time_hours", "op": "lte", "value": 23.9}, False),
        ({"fact": "lead_time_hours", "op": "gt", "value": 23.9}, True),
        ({"fact": "lead_time_hours", "op": "gt", "value": 24}, False),
        ({"fact": "lead_time_hours", "op": "gte", "value": 24}, True),
        ({"fact": "lead_time_hours", "op": "gte", "value": 24.1}, False),
        ({"fact": "lead_time_hours", "op": "in", "value": [12, 24]}, True),
        ({"fact": "model_kind", "op": "in", "value": ["emergency", "standard"]}, False),
        ({"fact": "model_kind", "op": "eq", "value": "normal"}, True),
        ({"fact": "outage_expected", "op": "true"}, True),
        ({"fact": "outage_expected", "op": "false"}, False),
        ({"fact": "in_blackout", "op": "false"}, True),
        ({"fact": "in_blackout", "op": "eq", "value": False}, True),
        # An unknown value (no history, no window) holds for no operator.
        ({"fact": "team_success_rate", "op": "lt", "value": 90}, False),
        ({"fact": "team_success_rate", "op": "ne", "value": 90}, False),
    ],
)
def test_each_operator(condition, expected):
    assert risk.condition_problems([condition]) == []
    assert risk.holds(condition, FACTS) is expected


def test_operators_through_a_calculated_change(make_change, window):
    start, end = window  # four days ahead: 96 hours' notice, the model asks for 72
    rule("Short notice", "high", [{"fact": "below_model_lead_time", "op": "true"}], order=1)
    rule("Within a week", "moderate", [{"fact": "lead_time_hours", "op": "lt", "value": 168}])
    change = make_change(planned_start=start, planned_end=end)
    assert change.risk == "moderate"
    assert 95 < fact(change, "lead_time_hours") <= 96
    soon = timezone.now() + timedelta(hours=10)
    change = services.update_change(
        Change.objects.get(pk=change.pk),
        change.opened_by,
        {"planned_start": soon, "planned_end": soon + timedelta(hours=1)},
    )
    change.refresh_from_db()
    assert change.risk == "high" and fact(change, "below_model_lead_time") is True
    assert "Risk recalculated: moderate → high." in journal(change)


@pytest.mark.parametrize(
    "conditions, named",
    [
        ([{"fact": "moon_phase", "op": "eq", "value": 1}], "'moon_phase' is not a fact"),
        ([{"fact": "ci_count", "op": "about", "value": 1}], "'about' is not an operator"),
        ([{"fact": "ci_count", "op": "lt", "value": "many"}], "the value must be a number"),
        ([{"fact": "ci_count", "op": "lt", "value": True}], "the value must be a number"),
        ([{"fact": "outage_expected", "op": "lt", "value": 1}], "outage_expected takes"),
        ([{"fact": "outage_expected", "op": "true", "value": 1}], "true takes no value"),
        ([{"fact": "model_kind", "op": "eq", "value": "weird"}], "one of standard"),
        ([{"fact": "model_kind", "op": "in", "value": []}], "non-empty list"),
        ([{"fact": "ci_count", "op": "lt"}], "give a value"),
        ({"fact": "ci_count"}, "A list of conditions"),
        (["ci_count"], "Condition 1"),
    ],
)
def test_bad_conditions_are_refused_naming_the_condition(api_as, admin_user, conditions, named):
    response = api_as(admin_user).post(
        "/api/v1/change-risk-rules/",
        {"name": "Broken", "risk": "high", "conditions": conditions},
        format="json",
    )
    assert response.status_code == 400
    message = " ".join(response.json()["conditions"])
    assert named in message
    if isinstance(conditions, list) and isinstance(conditions[0], dict):
        assert "Condition 1" in message
    assert not RiskRule.objects.exists()


def test_administrators_write_rules_staff_read_them(api_as, admin_user, agent, alice, normal_model):
    data = {
        "name": "Short notice",
        "order": 10,
        "risk": "high",
        "conditions": [{"fact": "lead_time_hours", "op": "lt", "value": 48}],
        "change_models": [normal_model.pk],
    }
    assert api_as(agent).post("/api/v1/change-risk-rules/", data, format="json").status_code == 403
    assert api_as(alice).post("/api/v1/change-risk-rules/", data, format="json").status_code == 403
    assert api_as(alice).get("/api/v1/change-risk-rules/").status_code == 403
    created = api_as(admin_user).post("/api/v1/change-risk-rules/", data, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    listed = api_as(agent).get("/api/v1/change-risk-rules/").json()
    assert [r["name"] for r in listed] == ["Short notice"]
    assert listed[0]["change_models"] == [normal_model.pk]
    assert (
        api_as(agent)
        .patch(f"/api/v1/change-risk-rules/{pk}/", {"risk": "low"}, format="json")
        .status_code
        == 403
    )
    changed = api_as(admin_user).patch(
        f"/api/v1/change-risk-rules/{pk}/",
        {"conditions": [{"fact": "lead_time_hours", "op": "lt", "value": "soon"}]},
        format="json",
    )
    assert changed.status_code == 400 and "Condition 1" in changed.json()["conditions"][0]
    assert RiskRule.objects.get(pk=pk).conditions[0]["value"] == 48
    facts = api_as(agent).get("/api/v1/change-risk-rules/facts/").json()
    lead = next(f for f in facts if f["name"] == "lead_time_hours")
    assert (
        lead["type"] == "number" and "lt" in lead["operators"] and "true" not in lead["operators"]
    )


# The questionnaire ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tested, users, score, expected",
    [
        ("yes", "few", 1, "low"),
        ("yes", "all", 9, "low"),
        ("no", "yes-not-asked", None, None),
        ("no", "few", 11, "moderate"),
        ("yes", "some", 5, "low"),
        ("no", "all", 19, "moderate"),
    ],
)
def test_weighted_answers_add_up_to_a_score_and_its_risk(
    agent_client, make_change, questionnaire, tested, users, score, expected
):
    change = make_change()
    q = questions(questionnaire)
    response = agent_client.post(
        f"/api/v1/changes/{change.number}/risk/",
        {
            "answers": [
                {"question": q[1].pk, "value": tested},
                {"question": q[2].pk, "value": users},
            ]
        },
        format="json",
    )
    if score is None:
        assert response.status_code == 400
        return
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["risk_score"] == score and body["questionnaire"]["value"] == score
    assert body["questionnaire"]["result"] == expected
    assert [a["result"] for a in body["answers"]] == [
        q[1].weight_of(tested),
        q[2].weight_of(users),
    ]
    assert body["risk"] == expected  # the matrix and no rule say low


def test_thresholds_at_their_boundaries(questionnaire):
    assert questionnaire.risk_for(9) == "low"
    assert questionnaire.risk_for(10) == "moderate"
    assert questionnaire.risk_for(19) == "moderate"
    assert questionnaire.risk_for(20) == "high"


def test_answers_reaching_high_make_the_change_high_and_are_journalled(
    agent_client, make_change, questionnaire
):
    Question.objects.create(
        questionnaire=questionnaire,
        order=3,
        text="Can it be backed out?",
        choices=[{"value": "yes", "weight": 0}, {"value": "no", "weight": 5}],
    )
    change = make_change()
    q = questions(questionnaire)
    answers = [
        {"question": q[1].pk, "value": "no"},
        {"question": q[2].pk, "value": "some"},
        {"question": q[3].pk, "value": "no"},
    ]
    response = agent_client.post(
        f"/api/v1/changes/{change.number}/risk/", {"answers": answers}, format="json"
    )
    assert response.status_code == 200
    change.refresh_from_db()
    assert change.risk == "high" and change.risk_score == 20 and change.version == 2
    entries = journal(change)
    assert any(e.startswith("Risk questionnaire answered (3 of 3, score 20)") for e in entries)
    assert "Risk recalculated: low → high." in entries
    # Answering again replaces the earlier answers.
    again = agent_client.post(
        f"/api/v1/changes/{change.number}/risk/",
        {"answers": [{"question": q[1].pk, "value": "yes"}]},
        format="json",
    )
    assert again.status_code == 200
    assert list(RiskAnswer.objects.filter(change=change).values_list("value", flat=True)) == ["yes"]
    change.refresh_from_db()
    assert change.risk == "low" and change.risk_score == 0


def test_bad_answers_are_refused_naming_the_question_and_nothing_is_saved(
    agent_client, make_change, questionnaire
):
    change = make_change()
    q = questions(questionnaire)
    url = f"/api/v1/changes/{change.number}/risk/"
    first = agent_client.post(
        url, {"answers": [{"question": q[1].pk, "value": "no"}]}, format="json"
    )
    assert first.status_code == 200
    other = Questionnaire.objects.create(name="Other")
    stranger = Question.objects.create(
        questionnaire=other, text="Elsewhere?", choices=[{"value": "yes", "weight": 50}]
    )
    for answers, named in (
        ([{"question": q[1].pk, "value": "maybe"}], "Has it been tested?"),
        ([{"question": q[2].pk, "value": "no"}], "How many users are affected?"),
        ([{"question": stranger.pk, "value": "yes"}], f"Question {stranger.pk}"),
        ([{"question": q[1].pk, "value": "yes"}, {"question": q[1].pk, "value": "no"}], "twice"),
        ([{"question": "first", "value": "yes"}], "'first'"),
    ):
        response = agent_client.post(url, {"answers": answers}, format="json")
        assert response.status_code == 400, answers
        assert named in " ".join(response.json()["answers"]), response.json()
    assert agent_client.post(url, {"answers": "no"}, format="json").status_code == 400
    assert list(RiskAnswer.objects.filter(change=change).values_list("value", flat=True)) == ["no"]
    assert Change.objects.get(pk=change.pk).risk_score == 10


def test_a_model_without_a_questionnaire_and_a_closed_change_take_no_answers(
    agent_client, make_change, standard_model, questionnaire
):
    change = make_change(model=standard_model)
    response = agent_client.post(
        f"/api/v1/changes/{change.number}/risk/", {"answers": []}, format="json"
    )
    assert response.status_code == 400 and "no risk questionnaire" in response.json()["answers"][0]
    Change.objects.filter(pk=change.pk).update(state="cancelled")
    response = agent_client.post(
        f"/api/v1/changes/{change.number}/risk/", {"answers": []}, format="json"
    )
    assert response.status_code == 400 and "cancelled" in response.json()["answers"][0]


def test_questionnaires_with_their_questions_are_administered(api_as, admin_user, agent):
    data = {
        "name": "Infrastructure",
        "moderate_from": 5,
        "high_from": 8,
        "questions": [
            {"order": 1, "text": "Tested?", "choices": [{"value": "no", "weight": 5}]},
            {"order": 2, "text": "Weekend?", "choices": [{"value": "no", "weight": 3}]},
        ],
    }
    assert (
        api_as(agent).post("/api/v1/change-questionnaires/", data, format="json").status_code == 403
    )
    created = api_as(admin_user).post("/api/v1/change-questionnaires/", data, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert [q["text"] for q in body["questions"]] == ["Tested?", "Weekend?"]
    first = body["questions"][0]
    changed = api_as(admin_user).patch(
        f"/api/v1/change-questionnaires/{body['id']}/",
        {"questions": [{**first, "text": "Tested in staging?"}]},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert [q["text"] for q in changed.json()["questions"]] == ["Tested in staging?"]
    bad = api_as(admin_user).post(
        "/api/v1/change-questionnaires/",
        {**data, "name": "Bad", "high_from": 2},
        format="json",
    )
    assert bad.status_code == 400 and "high_from" in bad.json()
    doubled = api_as(admin_user).post(
        "/api/v1/change-questionnaires/",
        {
            "name": "Doubled",
            "questions": [
                {"text": "?", "choices": [{"value": "a", "weight": 1}, {"value": "a", "weight": 2}]}
            ],
        },
        format="json",
    )
    assert doubled.status_code == 400 and not Questionnaire.objects.filter(name="Doubled").exists()
    worse = api_as(admin_user).post(
        "/api/v1/change-questionnaires/",
        {"name": "Worse", "questions": [{"text": "?", "choices": [{"value": "a"}]}]},
        format="json",
    )
    assert worse.status_code == 400 and not Questionnaire.objects.filter(name="Worse").exists()


# The matrix: blast radius, success score, conflicts ----------------------------------------


def test_the_blast_radius_is_read_through_the_cmdb(make_change, estate):
    change = make_change(configuration_items=[estate["host"]])
    # vm, SAP, ERP, the controller and Wi-Fi; not the switch.
    assert fact(change, "cis_reached") == 5
    assert fact(change, "services_reached") == 2
    assert fact(change, "business_critical_service") is True
    explained = risk.explain(Change.objects.get(pk=change.pk))
    assert set(explained["blast_radius"]["services"]) == {"ERP", "Office Wi-Fi"}
    assert explained["blast_radius"]["critical_services"] == ["ERP"]
    assert change.impact == "high"
    # A CI nothing depends on reaches nothing: no business service, low impact.
    quiet = make_change(configuration_items=[ci("Runbook", "document")])
    assert fact(quiet, "cis_reached") == 0 and quiet.impact == "low"
    # The Wi-Fi controller reaches a silver service: medium.
    wifi = make_change(configuration_items=[estate["ctl"]])
    assert fact(wifi, "services_reached") == 1 and wifi.impact == "medium"
    assert fact(wifi, "business_critical_service") is False


def test_one_walk_from_several_cis_is_the_union_of_their_walks(estate):
    starts = [estate["vm"].pk, estate["ctl"].pk]
    services_found = set()
    together = walk_from(starts, IMPACT, services=services_found)
    apart = {r.ci_id for s in starts for r in walk(s, IMPACT)} - set(starts)
    assert {r.ci_id for r in together} == apart
    assert services_found == {estate["erp"].pk, estate["wifi"].pk}
    assert walk_from([], IMPACT) == []
    types = risk_types()
    with CaptureQueriesContext(connection) as captured:
        walk_from(starts, IMPACT, types=types)
    assert len(captured) == 1, captured.captured_queries


def risk_types():
    from cmdb.impact import _type_ids

    return _type_ids()


def test_a_catalogue_service_named_on_the_change_counts(make_change, estate, email_service):
    change = make_change(services=[email_service])
    assert fact(change, "services_affected") == 1 and fact(change, "services_reached") == 1
    assert change.impact == "medium"
    # A catalogue service named like a gold business service of the CMDB is critical.
    erp = type(email_service).objects.create(name="ERP")
    critical = make_change(services=[erp])
    assert fact(critical, "business_critical_service") is True and critical.impact == "high"


def close(change, code):
    Change.objects.filter(pk=change.pk).update(
        state="closed", closure_code=code, closed_at=timezone.now() - timedelta(days=3)
    )


def test_the_success_score_of_team_and_model(make_change, normal_model, network_team, agent2):
    for code in (ClosureCode.FAILED, ClosureCode.BACKED_OUT, ClosureCode.SUCCESSFUL):
        close(make_change(), code)
    old = make_change()
    close(old, ClosureCode.FAILED)
    Change.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=100))
    make_change()  # open: not counted
    score = risk.success_score(team=make_change().assignment_group)
    assert score == {
        "closed": 3,
        "failed": 1,
        "backed_out": 1,
        "incidents_caused": 0,
        "rate": 33.3,
        "days": 90,
    }
    assert risk.success_score(team=network_team)["rate"] is None
    assert risk.success_score(model=normal_model, days=365)["closed"] == 4
    assert risk.success_score(team=network_team, model=normal_model)["closed"] == 0


def test_a_poor_success_score_raises_the_probability(
    make_change, agent, agent2, network_team, service_desk, alice, emergency_model
):
    fresh = make_change(assignment_group=network_team, actor=agent2)
    assert fresh.probability == "low"
    failing = [make_change() for _ in range(2)]
    for change in failing:
        close(change, ClosureCode.FAILED)
    incident = factories.incident(alice, agent)
    failing[0].caused_incidents.add(incident)
    change = make_change()
    assert fact(change, "team_success_rate") == 0.0
    assert fact(change, "failed_changes_90d") == 2
    assert fact(change, "incidents_caused_90d") == 1
    # Team 0 % (+2), model 0 % (+2), an incident caused (+1).
    assert change.probability == "high"
    probability = next(r for r in reasons(change, "matrix") if r["name"] == "probability")
    assert probability["points"] == 5
    # The network team has no record; the model's failures still count (+2): medium.
    other = make_change(assignment_group=network_team, actor=agent2)
    assert other.probability == "medium" and fact(other, "team_success_rate") is None
    # A model with a clean record and a team with none: low.
    clean = make_change(assignment_group=network_team, actor=agent2, model=emergency_model)
    assert fact(clean, "model_success_rate") is None
    assert clean.probability == "low"  # an emergency change alone is +1


def test_conflicts_raise_the_probability_and_the_matrix_decides(make_change, estate):
    change = make_change(configuration_items=[estate["ctl"]])  # impact medium
    assert change.probability == "low" and change.risk == "low"
    Conflict.objects.create(change=change, kind=Conflict.Kind.BLACKOUT, detail="Year-end freeze")
    risk.calculate(change)
    change.refresh_from_db()
    assert fact(change, "in_blackout") is True and fact(change, "conflict_count") == 1
    assert change.probability == "medium" and change.risk == "moderate"
    Conflict.objects.create(
        change=change, kind=Conflict.Kind.OUTSIDE_MAINTENANCE, detail="Outside Sunday 02:00"
    )
    Conflict.objects.create(change=change, kind=Conflict.Kind.SAME_CI, detail="CHG0000001")
    risk.calculate(change)
    change.refresh_from_db()
    assert fact(change, "outside_maintenance_window") is True
    assert change.probability == "high" and change.risk == "high"
    matrix = next(r for r in reasons(change, "matrix") if r["name"] == "matrix")
    assert matrix["result"] == "high" and matrix["decisive"]


@pytest.mark.parametrize(
    "probability, impact, expected",
    [
        ("low", "low", "low"),
        ("low", "high", "moderate"),
        ("medium", "medium", "moderate"),
        ("medium", "high", "high"),
        ("high", "low", "moderate"),
        ("high", "high", "high"),
    ],
)
def test_the_matrix(probability, impact, expected):
    assert risk.MATRIX[(probability, impact)] == expected


# Override ------------------------------------------------------------------------------------


def test_an_override_needs_a_reason_and_is_journalled(agent_client, make_change):
    change = make_change()
    url = f"/api/v1/changes/{change.number}/"
    refused = agent_client.patch(url, {"risk_override": "high"}, format="json")
    assert refused.status_code == 400 and "risk_override_reason" in refused.json()
    assert Change.objects.get(pk=change.pk).risk_override == ""
    done = agent_client.patch(
        url,
        {"risk_override": "high", "risk_override_reason": "The vendor's firmware is new."},
        format="json",
    )
    assert done.status_code == 200
    body = done.json()
    assert body["risk"] == "low" and body["effective_risk"] == "high"
    assert "Risk overridden to high: The vendor's firmware is new." in journal(change)
    explained = agent_client.get(f"{url}risk/").json()
    assert explained["override"] == "high" and explained["effective_risk"] == "high"
    assert explained["override_reason"] == "The vendor's firmware is new."


# Who may, and what it costs -------------------------------------------------------------------


def test_the_risk_endpoint_is_for_staff(api_as, alice, agent, make_change, questionnaire):
    change = make_change()
    url = f"/api/v1/changes/{change.number}/risk/"
    assert api_as(alice).get(url).status_code in (403, 404)
    assert api_as(alice).post(url, {"answers": []}, format="json").status_code in (403, 404)
    assert api_as(agent).get(url).status_code == 200
    assert not RiskAnswer.objects.exists()


LAST = []


def count(client, method, url, data=None):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data, format="json")
    LAST[:] = captured.captured_queries
    assert response.status_code == 200, response.json()
    return len(captured)


def test_query_counts_of_the_risk_endpoint_do_not_grow(
    agent_client, make_change, questionnaire, estate
):
    change = make_change(configuration_items=[estate["host"]])
    q = questions(questionnaire)
    url = f"/api/v1/changes/{change.number}/risk/"
    rule("Never", "high", [{"fact": "ci_count", "op": "gt", "value": 99}], order=1)
    small = [{"question": q[1].pk, "value": "yes"}]
    read_small = count(agent_client, "get", url)
    write_small = count(agent_client, "post", url, {"answers": small})
    for n in range(10):
        rule(f"Never {n}", "high", [{"fact": "ci_count", "op": "gt", "value": 99}], order=2 + n)
        Question.objects.create(
            questionnaire=questionnaire,
            order=10 + n,
            text=f"Question {n}",
            choices=[{"value": "a", "weight": 1}],
        )
    more_cis = [ci(f"vm-{n}", "virtual_machine") for n in range(5)]
    for vm in more_cis:
        relate(vm, "runs_on", estate["host"])
    change.configuration_items.add(*more_cis)
    big = small + [
        {"question": question.pk, "value": "a"}
        for question in questionnaire.questions.filter(order__gte=10)
    ]
    assert count(agent_client, "get", url) <= read_small
    assert count(agent_client, "post", url, {"answers": big}) <= write_small
    # Read: the change, the questions, the answers. Write: the lock, the questions, the answers
    # replaced, the version and the journal, the recalculation (about ten), the read back.
    assert read_small <= 3 and write_small <= 27, "\n".join(q["sql"][:120] for q in LAST)


# The change page -----------------------------------------------------------------------------


def test_the_page_shows_why_and_takes_answers_and_an_override(
    agent, make_change, questionnaire, estate
):
    rule("Critical service", "high", [{"fact": "business_critical_service", "op": "true"}])
    change = make_change(configuration_items=[estate["host"]])
    client = web(agent)
    html = page(client.get(f"/changes/{change.number}/"))
    assert "Critical service" in html and "ERP" in html and "Office Wi-Fi" in html
    assert "CIs reached" in html and "Has it been tested?" in html
    action = f"/changes/{change.number}/risk/"
    form = html_form(html, action, do="answer")
    q = questions(questionnaire)
    form[f"q-{q[1].pk}"] = "no"
    form[f"q-{q[2].pk}"] = "all"
    response = client.post(action, form)
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.risk_score == 19
    html = page(client.get(f"/changes/{change.number}/"))
    assert "score 19" in html and "Everyone" in html
    # A bad answer: the page again, 400, naming the question.
    form[f"q-{q[1].pk}"] = "perhaps"
    response = client.post(action, form)
    assert response.status_code == 400 and "Has it been tested?" in page(response)
    # The override: a reason is required.
    override = html_form(html, action, do="override")
    override["risk_override"] = "low"
    response = client.post(action, override)
    assert response.status_code == 400 and "Say why" in page(response)
    override["risk_override_reason"] = "Rehearsed twice on the twin cluster."
    assert client.post(action, override).status_code == 302
    change.refresh_from_db()
    assert change.effective_risk == "low" and change.risk == "high"
    assert "Risk overridden to low: Rehearsed twice on the twin cluster." in journal(change)


def test_the_admin_screens_open(admin_user, questionnaire):
    rule("Short notice", "high", [{"fact": "lead_time_hours", "op": "lt", "value": 48}])
    client = web(admin_user)
    for path in (
        "/admin/changes/riskrule/",
        "/admin/changes/riskrule/add/",
        f"/admin/changes/riskrule/{RiskRule.objects.get().pk}/change/",
        "/admin/changes/questionnaire/",
        f"/admin/changes/questionnaire/{questionnaire.pk}/change/",
        "/admin/changes/changemodel/",
        "/admin/changes/approvalpolicy/add/",
        "/admin/changes/changetemplate/add/",
        "/admin/changes/schedulewindow/add/",
        "/admin/changes/cabmeeting/add/",
    ):
        assert client.get(path).status_code == 200, path
    response = client.post(
        "/admin/changes/riskrule/add/",
        {
            "name": "Bad",
            "order": 1,
            "active": "on",
            "risk": "high",
            "conditions": '[{"fact": "moon", "op": "eq", "value": 1}]',
        },
    )
    assert response.status_code == 200 and "Condition 1" in page(response)
    assert RiskRule.objects.count() == 1
    assert ChangeModel.objects.exists()
