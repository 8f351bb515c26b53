"""GitHub's custom deployment protection rules.

GitHub sends a ``deployment_protection_rule`` event when a workflow job is about to deploy
to an environment protected by our rule. The event is signed with the integration's
webhook secret (``X-Hub-Signature-256``: the body's HMAC-SHA256, compared in constant
time); an unsigned or wrongly signed event is refused before anything is read or saved.
A signed one becomes a pipeline's request (pipeline ``github:<owner/repo>``, run the
workflow run's id, the environment mapped to ours), and the run's callback
(``deployment_callback_url``) is answered ``approved`` or ``rejected`` with a comment as
soon as the gate decides: at once when it has, else when a beat task finds it decided
(approvals landed, a freeze lifted). Callbacks go only to the integration's allowed hosts
and never to a private address (``itsm.core.outbound``).

``deployment_status`` events of a run we gated record its outcome (success, failure).
"""

import hashlib
import hmac
import json
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from itsm.api.parsers import MAX_DEPTH, control_characters_at, depth_of
from itsm.core import outbound
from itsm.core import services as core
from itsm.core.i18n import said
from itsm.core.middleware import CONTROL_MESSAGE
from itsm.core.models import JournalEntry

from . import devops
from .models import Deployment, GateDecision, GitHubIntegration
from .workflows import OPEN

#: ``…/repos/<owner>/<repo>/actions/runs/<run id>/deployment_protection_rule``
RUN_PATH = re.compile(r"/actions/runs/(\d+)/deployment_protection_rule/?$")
API_VERSION = "2022-11-28"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verified_integration(body: bytes, signature: str) -> GitHubIntegration | None:
    """The active integration whose secret signed ``body``, or None."""
    if not signature or not signature.startswith("sha256="):
        return None
    for integration in GitHubIntegration.objects.filter(active=True).select_related(
        "service_account__user"
    ):
        if hmac.compare_digest(sign(integration.secret, body), signature):
            return integration
    return None


def _refused(message: str, code: int = 400) -> tuple[dict, int]:
    return {"detail": message}, code


def receive(integration: GitHubIntegration, event: str, body: bytes) -> tuple[dict, int]:
    """Handle a verified event: (the answer, its status)."""
    if event == "ping":
        return {"detail": "pong"}, 200
    if event not in ("deployment_protection_rule", "deployment_status"):
        return {
            "detail": gettext("The %(event)s event is not handled.")
            % {"event": event or gettext("unnamed")}
        }, 200
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _refused(gettext("The body is not JSON."))
    # The bounds every JSON body of the API has (itsm.api.parsers): a signed body is
    # trusted to come from GitHub, not to be storable.
    if depth_of(payload) > MAX_DEPTH:
        return _refused(gettext("JSON nested deeper than %(depth)d levels.") % {"depth": MAX_DEPTH})
    bad = control_characters_at(payload)
    if bad:
        return _refused(f"{CONTROL_MESSAGE} ({', '.join(bad[:5])})")
    if not isinstance(payload, dict):
        return _refused(gettext("The body is not a JSON object."))
    repository = str((payload.get("repository") or {}).get("full_name") or "")
    if not repository:
        return _refused(gettext("The event names no repository."))
    if integration.repositories and repository not in integration.repositories:
        return _refused(
            gettext("%(repository)s is not a repository of %(integration)s.")
            % {"repository": repository, "integration": integration},
            403,
        )
    if event == "deployment_status":
        return _status(integration, repository, payload)
    if payload.get("action") != "requested":
        return {
            "detail": gettext("The %(action)s action is not handled.")
            % {"action": payload.get("action")}
        }, 200
    return _protection_rule(integration, repository, payload)


def _protection_rule(integration, repository: str, payload: dict) -> tuple[dict, int]:
    github_environment = str(payload.get("environment") or "")
    environment = integration.environment_for(github_environment)
    if environment is None:
        return _refused(
            gettext("The environment %(environment)s is not mapped to ours.")
            % {"environment": repr(github_environment)}
        )
    callback_url = str(payload.get("deployment_callback_url") or "")
    match = RUN_PATH.search(urlsplit(callback_url).path)
    if match is None:
        return _refused(gettext("The event has no workflow run's deployment_callback_url."))
    host = urlsplit(callback_url).hostname or ""
    if not outbound.host_allowed(host, integration.allowed_callback_hosts):
        return _refused(
            gettext("The callback's host %(host)s is not allowed for %(integration)s.")
            % {"host": host, "integration": integration},
            403,
        )
    github_deployment = payload.get("deployment") or {}
    sender = (payload.get("sender") or {}).get("login") or "someone"
    ref = str(payload.get("ref") or github_deployment.get("ref") or "")
    data = {
        "pipeline": f"github:{repository}"[:200],
        "run": match.group(1),
        "environment": environment,
        "commit": str(payload.get("sha") or github_deployment.get("sha") or "")[:100],
        "artefact": ref[:500],
        "description": gettext(
            "GitHub deployment protection rule: %(repository)s %(ref)s (%(event)s by %(sender)s)."
        )
        % {
            "repository": repository,
            "ref": ref,
            "event": payload.get("event") or "workflow",
            "sender": sender,
        },
        "github_integration": integration,
        "github_environment": github_environment[:200],
        "github_callback_url": callback_url,
    }
    try:
        deployment, _created = devops.request_deployment(integration.service_account, data)
    except ValidationError as error:
        return {"detail": error.message_dict}, 400
    except devops.RunConflict as conflict:
        return _refused(str(conflict), 409)
    decision = devops.gate(deployment)
    if decision.decision != GateDecision.AWAITING:
        queue_answer(deployment.pk)
    return {
        "deployment": deployment.number,
        "change": deployment.change.number if deployment.change_id else None,
        **decision.as_dict(),
    }, 202


def _status(integration, repository: str, payload: dict) -> tuple[dict, int]:
    """A ``deployment_status`` of a run we gated: its outcome."""
    state = str((payload.get("deployment_status") or {}).get("state") or "")
    result = {"success": "success", "failure": "failure", "error": "failure"}.get(state)
    run = str((payload.get("workflow_run") or {}).get("id") or "")
    environment = integration.environment_for(
        str((payload.get("deployment") or {}).get("environment") or "")
    )
    if result is None or not run or environment is None:
        return {"detail": gettext("Not an outcome of a gated run.")}, 200
    deployment = Deployment.objects.filter(
        pipeline=f"github:{repository}", run=run, environment=environment
    ).first()
    if deployment is None:
        return {"detail": gettext("No deployment of that run.")}, 200
    log_url = str((payload.get("deployment_status") or {}).get("log_url") or "")[:1000]
    try:
        deployment = devops.record_outcome(deployment, result, log_url)
    except devops.RunConflict as conflict:
        return _refused(str(conflict), 409)
    return {"deployment": deployment.number, "status": deployment.state}, 200


def queue_answer(deployment_id: int) -> None:
    """Answer the run's callback after commit (a Celery task)."""
    from .tasks import answer_github

    transaction.on_commit(lambda: answer_github.delay(deployment_id))


def answer_callback(deployment_id: int) -> str:
    """Answer a deployment's GitHub callback if the gate has decided: ``approved``,
    ``rejected``, ``waiting``, or what stopped the call. Sent once: the row is locked
    while it is sent and the state kept."""
    with transaction.atomic():
        deployment = (
            Deployment.objects.select_for_update(of=("self",))
            .select_related("github_integration")
            .filter(pk=deployment_id)
            .first()
        )
        if deployment is None or not deployment.github_callback_url or deployment.callback_state:
            return deployment.callback_state if deployment else "gone"
        integration = deployment.github_integration
        if integration is None or not integration.active:
            return "no integration"
        decision = devops.gate(deployment)
        if decision.decision == GateDecision.AWAITING:
            return "waiting"
        state = "approved" if decision.decision == GateDecision.ALLOWED else "rejected"
        comment = f"{deployment.number}: {decision.decision}. {' '.join(decision.reasons)}"
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }
        if integration.callback_token:
            headers["Authorization"] = f"Bearer {integration.callback_token}"
        sent, error = "", ""
        try:
            response = outbound.safe_post(
                deployment.github_callback_url,
                {
                    "environment_name": deployment.github_environment,
                    "state": state,
                    "comment": comment[:1000],
                },
                headers=headers,
                allowed_hosts=integration.allowed_callback_hosts,
            )
        except outbound.OutboundRefused as refused:
            sent, error = "refused", str(refused)
        except outbound.OutboundFailed as failed:
            error = str(failed)  # tried again by the beat
        else:
            if response.ok:
                sent = state
            else:
                error = f"GitHub answered HTTP {response.status}."
        Deployment.objects.filter(pk=deployment.pk).update(
            callback_state=sent,
            callback_sent_at=timezone.now() if sent else None,
            callback_error=error[:500],
        )
        core.write_journal(
            deployment,
            JournalEntry.Kind.NOTIFICATION,
            None,
            body=(
                said(
                    gettext_noop("GitHub told: %(state)s (%(environment)s)."),
                    state=state,
                    environment=deployment.github_environment,
                )
                if sent in ("approved", "rejected")
                else said(gettext_noop("GitHub's callback not answered: %(error)s"), error=error)
            ),
            internal=True,
        )
        return sent or "failed"


def pending() -> list[int]:
    """Deployments whose GitHub callback still waits for the gate's answer."""
    return list(
        Deployment.objects.filter(callback_state="", state__in=OPEN)
        .exclude(github_callback_url="")
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
