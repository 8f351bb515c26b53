"""GitHub's custom deployment protection rules: events signed with the integration's
secret (a bad or missing signature is refused and saves nothing), the run's callback
answered with the gate's decision (received by a real server on 127.0.0.1), and outbound
calls only to allowed hosts and public addresses."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from rest_framework.test import APIClient

from changes import services as change_services
from changes.models import ApprovalState, Change
from itsm.core import outbound
from practices.deployments import github
from practices.deployments.accounts import service_account
from practices.deployments.models import Deployment, GitHubIntegration
from practices.deployments.tasks import recheck_github_gates

SECRET = "It's a Secret to Everybody"
URL = "/api/v1/devops/github/"


class Callbacks:
    """A server on 127.0.0.1 that records what is posted to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                received.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, run="4711"):
        return (
            f"http://127.0.0.1:{self.port}/repos/acme/shop/actions/runs/{run}"
            "/deployment_protection_rule"
        )

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callbacks():
    server = Callbacks()
    yield server
    server.close()


@pytest.fixture
def integration(db, policies):
    account, _token = service_account("github-acme")
    return GitHubIntegration.objects.create(
        name="Acme on GitHub",
        secret=SECRET,
        callback_token="ghs_installation_token",
        allowed_callback_hosts=["127.0.0.1"],
        environments={"prod": "production", "stage": "staging"},
        repositories=["acme/shop"],
        service_account=account,
    )


def event(callbacks, environment="stage", run="4711"):
    return {
        "action": "requested",
        "environment": environment,
        "event": "push",
        "sha": "9fceb02d0ae598e95dc970b74767f19372d61af8",
        "ref": "refs/heads/main",
        "deployment_callback_url": callbacks.url(run),
        "deployment": {"id": 1, "sha": "9fceb02", "ref": "main", "environment": environment},
        "repository": {"full_name": "acme/shop"},
        "sender": {"login": "octocat"},
    }


def deliver(payload, secret=SECRET, kind="deployment_protection_rule", signature=None):
    body = json.dumps(payload).encode()
    headers = {"HTTP_X_GITHUB_EVENT": kind}
    if signature is None:
        signature = github.sign(secret, body)
    if signature:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return APIClient().post(URL, body, content_type="application/json", **headers)


@pytest.mark.django_db
class TestSignatures:
    def test_a_bad_or_missing_signature_is_refused_and_saves_nothing(self, integration, callbacks):
        payload = event(callbacks)
        assert deliver(payload, secret="guessed").status_code == 403
        assert deliver(payload, signature="").status_code == 401
        assert deliver(payload, signature="sha1=abc").status_code == 403
        tampered = json.dumps({**payload, "environment": "prod"}).encode()
        response = APIClient().post(
            URL,
            tampered,
            content_type="application/json",
            HTTP_X_GITHUB_EVENT="deployment_protection_rule",
            HTTP_X_HUB_SIGNATURE_256=github.sign(SECRET, json.dumps(payload).encode()),
        )
        assert response.status_code == 403
        assert not Deployment.objects.exists() and not Change.objects.exists()
        assert callbacks.received == []

    def test_a_ping_is_answered(self, integration):
        assert deliver({"zen": "Keep it simple."}, kind="ping").status_code == 200

    def test_another_repository_or_callback_host_is_refused(self, integration, callbacks):
        other = {**event(callbacks), "repository": {"full_name": "mallory/shop"}}
        assert deliver(other).status_code == 403
        elsewhere = {
            **event(callbacks),
            "deployment_callback_url": "https://evil.example.com/repos/acme/shop/actions/runs/1"
            "/deployment_protection_rule",
        }
        assert deliver(elsewhere).status_code == 403
        assert not Deployment.objects.exists()

    def test_a_signed_body_with_a_control_character_or_nested_too_deep_is_a_400(
        self, integration, callbacks
    ):
        """The signature proves who sent it, not that it can be stored: the bounds of every
        JSON body of the API hold here too."""
        nul = {**event(callbacks), "ref": "main\x00"}
        refused = deliver(nul)
        assert refused.status_code == 400
        assert (
            "control characters" in refused.json()["detail"] and "ref" in refused.json()["detail"]
        )
        deep: dict = {}
        for _ in range(40):
            deep = {"x": deep}
        assert deliver({**event(callbacks), "extra": deep}).status_code == 400
        assert not Deployment.objects.exists()
        assert callbacks.received == []


@pytest.mark.django_db
class TestCallbacks:
    def test_an_allowed_run_is_approved_on_its_callback(
        self, integration, callbacks, settings, django_capture_on_commit_callbacks
    ):
        settings.OUTBOUND_ALLOW_LOOPBACK = True
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(event(callbacks))
        assert response.status_code == 202, response.content
        assert response.json()["decision"] == "allowed"
        deployment = Deployment.objects.get()
        assert (deployment.pipeline, deployment.run, deployment.environment) == (
            "github:acme/shop",
            "4711",
            "staging",
        )
        assert deployment.change.model.kind == "registration"
        assert len(callbacks.received) == 1
        call = callbacks.received[0]
        assert call["path"] == "/repos/acme/shop/actions/runs/4711/deployment_protection_rule"
        assert call["body"]["environment_name"] == "stage"
        assert call["body"]["state"] == "approved"
        assert deployment.number in call["body"]["comment"]
        assert call["headers"]["Authorization"] == "Bearer ghs_installation_token"
        deployment.refresh_from_db()
        assert deployment.callback_state == "approved" and deployment.callback_sent_at
        # A redelivery is the same deployment and sends nothing again.
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(event(callbacks)).status_code == 202
        assert Deployment.objects.count() == 1 and len(callbacks.received) == 1

    def test_an_awaiting_run_is_answered_when_approvals_land(
        self, integration, callbacks, settings, django_capture_on_commit_callbacks
    ):
        settings.OUTBOUND_ALLOW_LOOPBACK = True
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(event(callbacks, environment="prod"))
        assert response.json()["decision"] == "awaiting"
        assert callbacks.received == []
        assert recheck_github_gates() == 0 and callbacks.received == []
        change = Deployment.objects.get().change
        change_services.platform_update(change, {"approval_state": ApprovalState.APPROVED})
        assert recheck_github_gates() == 1
        assert [c["body"]["state"] for c in callbacks.received] == ["approved"]
        assert recheck_github_gates() == 0  # once

    def test_a_frozen_run_is_rejected_with_the_reason(
        self, integration, callbacks, settings, django_capture_on_commit_callbacks
    ):
        settings.OUTBOUND_ALLOW_LOOPBACK = True
        with django_capture_on_commit_callbacks(execute=True):
            deliver(event(callbacks, environment="prod"))
        change = Deployment.objects.get().change
        change_services.platform_update(
            change, {"on_hold": True, "hold_reason": "Freeze during major incident INC0001234"}
        )
        recheck_github_gates()
        assert callbacks.received[0]["body"]["state"] == "rejected"
        assert "INC0001234" in callbacks.received[0]["body"]["comment"]

    def test_without_the_loopback_setting_the_callback_is_not_sent(
        self, integration, callbacks, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            deliver(event(callbacks))
        assert callbacks.received == []
        deployment = Deployment.objects.get()
        assert deployment.callback_state == "refused"
        assert "loopback" in deployment.callback_error

    def test_a_deployment_status_records_the_outcome(
        self, integration, callbacks, settings, django_capture_on_commit_callbacks
    ):
        settings.OUTBOUND_ALLOW_LOOPBACK = True
        with django_capture_on_commit_callbacks(execute=True):
            deliver(event(callbacks))
        status = {
            "action": "created",
            "deployment_status": {"state": "success", "log_url": "https://github.com/log"},
            "deployment": {"environment": "stage"},
            "workflow_run": {"id": 4711},
            "repository": {"full_name": "acme/shop"},
        }
        assert deliver(status, kind="deployment_status").status_code == 200
        deployment = Deployment.objects.get()
        assert deployment.state == "succeeded"
        assert deployment.change.state == "closed"


class TestOutbound:
    @pytest.mark.parametrize(
        "url, reason",
        [
            ("http://127.0.0.1:9/hook", "loopback"),
            ("http://[::1]:9/hook", "loopback"),
            ("http://10.1.2.3/hook", "private"),
            ("http://192.168.0.10/hook", "private"),
            ("http://169.254.169.254/latest/meta-data", "link-local"),
            ("http://[::ffff:10.0.0.1]/hook", "private"),
            ("http://0.0.0.0/hook", "not a public"),
            ("ftp://example.com/hook", "http and https"),
            ("http://user:pw@example.com/hook", "credentials"),
        ],
    )
    def test_private_addresses_are_refused(self, url, reason, settings):
        settings.OUTBOUND_ALLOW_LOOPBACK = False
        host = url.split("//", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
        host = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
        with pytest.raises(outbound.OutboundRefused) as refused:
            outbound.safe_post(url, {}, allowed_hosts=[host])
        assert reason in str(refused.value)

    def test_only_allowed_hosts(self, settings):
        with pytest.raises(outbound.OutboundRefused) as refused:
            outbound.safe_post("https://api.github.com/x", {}, allowed_hosts=["example.com"])
        assert "not an allowed host" in str(refused.value)
        assert outbound.host_allowed("hooks.example.com", ["*.example.com"])
        assert not outbound.host_allowed("example.com", ["*.example.com"])
        assert not outbound.host_allowed("evilexample.com", ["*.example.com"])

    def test_a_name_resolving_to_loopback_is_refused(self, settings):
        settings.OUTBOUND_ALLOW_LOOPBACK = False
        with pytest.raises(outbound.OutboundRefused) as refused:
            outbound.safe_post("http://localhost:9/hook", {}, allowed_hosts=["localhost"])
        assert "loopback" in str(refused.value)

    def test_loopback_only_with_the_setting(self, settings, callbacks):
        settings.OUTBOUND_ALLOW_LOOPBACK = True
        response = outbound.safe_post(callbacks.url(), {"a": 1}, allowed_hosts=["127.0.0.1"])
        assert response.status == 204 and callbacks.received[0]["body"] == {"a": 1}
