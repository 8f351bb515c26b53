"""Pipelines ask before they deploy: an idempotent request opening the change the
environment requires, the gate decided at the moment it is asked (a freeze that starts
mid-pipeline stops it), automatic authorisation of low-risk deployments, the outcome
closing the change and recording the version in the CMDB; only service accounts."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from changes import approvals
from changes import services as change_services
from changes.models import ApprovalState, Change, RiskRule, ScheduleWindow
from cmdb import services as cmdb_services
from itsm.api import tokens
from itsm.core.models import JournalEntry
from practices.deployments.accounts import service_account
from practices.deployments.models import Deployment, EnvironmentPolicy
from tests.factories import ci

URL = "/api/v1/devops/deployments/"


def request_data(**extra):
    return {
        "pipeline": "gitlab:shop",
        "run": "4711",
        "environment": "staging",
        "commit": "9fceb02",
        "artefact": "registry.example.com/shop:2.4.1",
        "version": "2.4.1",
        **extra,
    }


def gate_of(client, answer):
    response = client.get(answer["gate_url"])
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
class TestRequests:
    def test_staging_opens_a_registration_that_waits_for_the_outcome(
        self, pipeline_client, policies, registration_model
    ):
        app = ci("shop-web", "application", environment="staging")
        response = pipeline_client.post(
            URL, request_data(configuration_items=["shop-web"]), format="json"
        )
        assert response.status_code == 201, response.content
        answer = response.json()
        deployment = Deployment.objects.get(number=answer["number"])
        change = deployment.change
        assert answer["change"] == change.number
        assert (change.model, change.state) == (registration_model, "new")
        assert change.requested_by.username == "gitlab-shop"
        assert list(change.configuration_items.all()) == [app]
        assert deployment.state == "planned" and deployment.software_version == "2.4.1"
        assert gate_of(pipeline_client, answer)["decision"] == "allowed"
        deployment.refresh_from_db()
        assert deployment.state == "in_progress" and deployment.gate_decision == "allowed"

    def test_a_retry_answers_the_same_and_makes_nothing(self, pipeline_client, policies):
        first = pipeline_client.post(URL, request_data(), format="json")
        again = pipeline_client.post(URL, request_data(), format="json")
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert Deployment.objects.count() == 1 and Change.objects.count() == 1
        other = pipeline_client.post(URL, request_data(commit="deadbeef"), format="json")
        assert other.status_code == 409 and "commit" in other.json()["detail"]
        elsewhere = pipeline_client.post(URL, request_data(environment="test"), format="json")
        assert elsewhere.status_code == 201  # another environment: another deployment
        assert Deployment.objects.count() == 2

    def test_production_opens_a_normal_change_asking_for_authorisation(
        self, pipeline_client, policies, normal_model
    ):
        answer = pipeline_client.post(
            URL, request_data(environment="production"), format="json"
        ).json()
        change = Change.objects.get(number=answer["change"])
        assert (change.model, change.state) == (normal_model, "authorise")
        states = list(
            JournalEntry.objects.for_record(change)
            .filter(kind="state")
            .values_list("data__to", flat=True)
        )
        assert states == ["assess", "authorise"]
        gate = gate_of(pipeline_client, answer)
        assert gate["decision"] == "awaiting"
        assert change.number in gate["reasons"][0] and "authorisation" in gate["reasons"][0]

    def test_an_existing_change_is_linked(self, pipeline_client, policies, make_change):
        change = make_change()
        answer = pipeline_client.post(URL, request_data(change=change.number), format="json").json()
        assert answer["change"] == change.number
        assert Change.objects.count() == 1

    def test_bad_input_names_the_field_and_saves_nothing(self, pipeline_client, policies):
        for data, field in (
            ({**request_data(), "run": ""}, "run"),
            (request_data(environment="moon"), "environment"),
            (request_data(configuration_items=["no-such-ci"]), "configuration_items"),
            (request_data(change="CHG9999999"), "change"),
        ):
            response = pipeline_client.post(URL, data, format="json")
            assert response.status_code == 400 and field in response.json(), response.content
        assert not Deployment.objects.exists() and not Change.objects.exists()

    def test_an_environment_without_a_change_model_is_refused(self, pipeline_client):
        response = pipeline_client.post(URL, request_data(), format="json")
        assert response.status_code == 400 and "environment" in response.json()
        assert not Deployment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_make_one_deployment_and_one_change(registration_model, service_desk):
    EnvironmentPolicy.objects.create(environment="staging", change_model=registration_model)
    _account, token = service_account("gitlab-shop")
    barrier, answers = threading.Barrier(4), []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            barrier.wait()
            response = client.post(URL, request_data(), format="json")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4
    assert all(answer == answers[0] for answer in answers), answers
    assert answers[0][0] == 201
    assert Deployment.objects.count() == 1
    assert Change.objects.count() == 1


@pytest.mark.django_db
class TestGate:
    def test_a_freeze_that_starts_mid_pipeline_stops_it(self, pipeline_client, policies):
        answer = pipeline_client.post(URL, request_data(), format="json").json()
        assert gate_of(pipeline_client, answer)["decision"] == "allowed"
        # A major incident: a change freeze puts the change on hold after the pipeline began.
        change = Change.objects.get(number=answer["change"])
        change_services.platform_update(
            change,
            {"on_hold": True, "hold_reason": "Freeze during major incident INC0001234"},
        )
        gate = gate_of(pipeline_client, answer)
        assert gate["decision"] == "prevented"
        assert "INC0001234" in gate["reasons"][0]
        deployment = Deployment.objects.get(number=answer["number"])
        assert deployment.gate_decision == "prevented"
        journal = " ".join(
            JournalEntry.objects.for_record(deployment).values_list("body", flat=True)
        )
        assert "Gate: prevented" in journal

    def test_a_blackout_that_starts_mid_pipeline_stops_it(self, pipeline_client, policies):
        app = ci("shop-web", "application", environment="staging")
        answer = pipeline_client.post(
            URL, request_data(configuration_items=[app.pk]), format="json"
        ).json()
        assert gate_of(pipeline_client, answer)["decision"] == "allowed"
        now = timezone.now()
        window = ScheduleWindow.objects.create(
            name="Year-end freeze",
            kind=ScheduleWindow.Kind.BLACKOUT,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=2),
        )
        window.configuration_items.add(app)
        gate = gate_of(pipeline_client, answer)
        assert gate["decision"] == "prevented", gate
        assert "Year-end freeze" in gate["reasons"][0]

    def test_a_rejected_or_cancelled_change_prevents_it(self, pipeline_client, policies):
        answer = pipeline_client.post(
            URL, request_data(environment="production"), format="json"
        ).json()
        change = Change.objects.get(number=answer["change"])
        change_services.platform_update(change, {"approval_state": ApprovalState.REJECTED})
        gate = gate_of(pipeline_client, answer)
        assert gate == {"decision": "prevented", "reasons": [f"{change.number} was rejected."]}

    def test_approvals_landing_allow_it(self, pipeline_client, policies):
        answer = pipeline_client.post(
            URL, request_data(environment="production"), format="json"
        ).json()
        assert gate_of(pipeline_client, answer)["decision"] == "awaiting"
        change = Change.objects.get(number=answer["change"])
        change_services.platform_update(change, {"approval_state": ApprovalState.APPROVED})
        assert gate_of(pipeline_client, answer)["decision"] == "allowed"

    def test_low_risk_is_not_authorised_automatically_without_passed_tests(
        self, pipeline_client, policies
    ):
        EnvironmentPolicy.objects.filter(environment="production").update(auto_approve=True)
        answer = pipeline_client.post(
            URL, request_data(environment="production", tests_passed=False), format="json"
        ).json()
        assert gate_of(pipeline_client, answer)["decision"] == "awaiting"
        deployment = Deployment.objects.get(number=answer["number"])
        journal = " ".join(
            JournalEntry.objects.for_record(deployment).values_list("body", flat=True)
        )
        assert "Not authorised automatically" in journal and "tests passed" in journal

    @pytest.mark.skipif(
        not hasattr(approvals, "auto_approve"), reason="changes.approvals.auto_approve not landed"
    )
    def test_low_risk_with_passed_tests_is_authorised_by_the_policy(
        self, pipeline_client, policies, normal_model
    ):
        EnvironmentPolicy.objects.filter(environment="production").update(auto_approve=True)
        RiskRule.objects.create(name="Pipelines are low risk", order=1, conditions=[], risk="low")
        answer = pipeline_client.post(
            URL, request_data(environment="production", tests_passed=True), format="json"
        ).json()
        change = Change.objects.get(number=answer["change"])
        assert change.effective_risk == "low", change.risk_reasons
        assert change.approval_state == ApprovalState.APPROVED
        assert gate_of(pipeline_client, answer)["decision"] == "allowed"


@pytest.mark.django_db
class TestOutcome:
    def test_success_closes_the_registration_and_records_the_version(
        self, pipeline_client, policies
    ):
        app = ci("shop-web", "application", environment="staging", attributes={"version": "2.4.0"})
        answer = pipeline_client.post(
            URL, request_data(configuration_items=[app.pk]), format="json"
        ).json()
        assert gate_of(pipeline_client, answer)["decision"] == "allowed"
        body = {"result": "success", "log_url": "https://ci.example.com/shop/-/jobs/4711"}
        response = pipeline_client.post(answer["outcome_url"], body, format="json")
        assert response.status_code == 200, response.content
        assert response.json() == {
            "number": answer["number"],
            "status": "succeeded",
            "change": answer["change"],
            "change_state": "closed",
            "closure_code": "successful",
        }
        again = pipeline_client.post(answer["outcome_url"], body, format="json")
        assert (again.status_code, again.json()) == (200, response.json())
        contrary = pipeline_client.post(answer["outcome_url"], {"result": "failure"}, format="json")
        assert contrary.status_code == 409
        deployment = Deployment.objects.get(number=answer["number"])
        assert deployment.log_url == body["log_url"] and deployment.ended_at is not None
        app.refresh_from_db()
        assert app.attributes["version"] == "2.4.1"
        assert any(
            (e.data or {}).get("attributes.version") == ["2.4.0", "2.4.1"]
            for e in cmdb_services.history(app)
        )
        change = Change.objects.get(number=answer["change"])
        states = list(
            JournalEntry.objects.for_record(change)
            .filter(kind="state")
            .values_list("data__to", flat=True)
        )
        assert states == ["review", "closed"]

    def test_failure_closes_the_change_failed(self, pipeline_client, policies):
        answer = pipeline_client.post(URL, request_data(), format="json").json()
        response = pipeline_client.post(answer["outcome_url"], {"result": "failure"}, format="json")
        assert response.json()["status"] == "failed"
        assert response.json()["closure_code"] == "failed"

    def test_a_normal_change_goes_through_implementation_to_closed(self, pipeline_client, policies):
        answer = pipeline_client.post(
            URL, request_data(environment="production"), format="json"
        ).json()
        change = Change.objects.get(number=answer["change"])
        change_services.platform_update(change, {"approval_state": ApprovalState.APPROVED})
        assert gate_of(pipeline_client, answer)["decision"] == "allowed"
        response = pipeline_client.post(answer["outcome_url"], {"result": "success"}, format="json")
        assert response.json()["change_state"] == "closed"
        change.refresh_from_db()
        assert change.actual_start is not None and change.closure_code == "successful"
        states = list(
            JournalEntry.objects.for_record(change)
            .filter(kind="state")
            .values_list("data__to", flat=True)
        )
        assert states[-4:] == ["scheduled", "implement", "review", "closed"]

    def test_an_unauthorised_normal_change_stops_where_its_guard_does(
        self, pipeline_client, policies
    ):
        answer = pipeline_client.post(
            URL, request_data(environment="production"), format="json"
        ).json()
        response = pipeline_client.post(answer["outcome_url"], {"result": "success"}, format="json")
        assert response.json()["status"] == "succeeded"
        assert response.json()["change_state"] == "authorise"
        change = Change.objects.get(number=answer["change"])
        notes = JournalEntry.objects.for_record(change).filter(kind="work_note")
        assert any("Not moved to scheduled" in n.body for n in notes)


@pytest.mark.django_db
class TestWhoMay:
    def test_only_a_service_accounts_token(self, api_as, agent, alice, policies, pipeline_client):
        answer = pipeline_client.post(URL, request_data(), format="json").json()
        anonymous = APIClient()
        assert anonymous.post(URL, request_data(run="1"), format="json").status_code == 401
        assert anonymous.get(answer["gate_url"]).status_code == 401
        for person in (agent, alice):
            assert api_as(person).post(URL, request_data(run="2"), format="json").status_code in (
                401,
                403,
            )
            _made, token = tokens.issue(person, name="mine", scopes=["write"])
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            assert client.post(URL, request_data(run="3"), format="json").status_code == 403
            assert client.get(answer["gate_url"]).status_code == 403
        assert Deployment.objects.count() == 1

    def test_a_pipeline_sees_only_its_own_deployments(self, policies, pipeline_client):
        answer = pipeline_client.post(URL, request_data(), format="json").json()
        _account, token = service_account("github-other")
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert other.get(answer["gate_url"]).status_code == 404
        assert other.post(answer["outcome_url"], {"result": "success"}).status_code == 404

    def test_a_person_cannot_become_a_service_account(self, agent):
        with pytest.raises(ValueError):
            service_account(agent.username)
