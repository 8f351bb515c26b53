"""DevOps: pipelines ask before they deploy.

1. ``request_deployment(account, data)``: a pipeline (its service account) announces a
   deployment of a run to an environment. Idempotent on pipeline + run + environment (a
   unique constraint, and an advisory lock so that concurrent retries wait for the first
   and find its row): a retry answers the same deployment. The first request opens a
   change of the model the environment requires (``EnvironmentPolicy``; without one, a
   registration for non-production and a normal change for production), or links the
   existing change it names, and moves it as its model allows: a registration stays in
   new until the outcome; a normal change goes to assess and authorise, where its
   approvals are requested. A policy may authorise low-risk ones without people (risk low,
   no conflict, the pipeline's tests passed: ``changes.approvals.auto_approve``).
2. ``gate(deployment)``: ``allowed``, ``awaiting`` or ``prevented``, with reasons, decided
   at the moment it is asked: prevented by a freeze or a blackout in force now (even one
   that started after the pipeline did), or a change rejected, cancelled or closed;
   awaiting while the change's authorisation is missing; allowed otherwise.
3. ``record_outcome(deployment, result)``: success or failure, idempotent: the deployment's
   status and end, and its change moved on to closed as far as its model allows (each move
   checked as any other and journalled), once no other deployment of it is still open.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from changes import approvals as change_approvals
from changes import conflicts as change_conflicts
from changes import services as change_services
from changes.models import ApprovalState, Change, ChangeKind, ChangeModel, ClosureCode
from changes.workflows import ChangeState
from cmdb.models import Environment
from itsm.core import services as core
from itsm.core.i18n import said
from itsm.core.models import JournalEntry

from . import services
from .models import Deployment, EnvironmentPolicy, GateDecision, ServiceAccount
from .workflows import FINISHED, OPEN, DeploymentState

#: Advisory lock namespace of pipeline requests ("DPLY").
LOCK_NAMESPACE = 0x44504C59
#: The states a pipeline's new change is moved to at most when it is requested: where
#: authorisation is asked (or, for a pre-authorised model, scheduled).
REQUEST_STOPS = (ChangeState.AUTHORISE, ChangeState.SCHEDULED)
#: Fields a retry must repeat as they were (another value is another deployment).
SAME_ON_RETRY = ("commit", "artefact", "software_version")


class RunConflict(Exception):
    """A request that contradicts what is recorded (a retry with another commit, an
    outcome after another outcome): 409."""


@dataclass(frozen=True)
class GateAnswer:
    """What the gate answers now: allowed, awaiting or prevented, and why."""

    decision: str
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"decision": self.decision, "reasons": list(self.reasons)}


# The environment's policy --------------------------------------------------------------------


def policy_for(environment: str) -> tuple[ChangeModel, EnvironmentPolicy | None]:
    """The change model a deployment to ``environment`` requires, and its policy (None:
    the default, the first active model of the kind the environment needs)."""
    policy = (
        EnvironmentPolicy.objects.select_related("change_model", "assignment_group")
        .filter(environment=environment)
        .first()
    )
    if policy is not None:
        return policy.change_model, policy
    kind = ChangeKind.NORMAL if environment == Environment.PRODUCTION else ChangeKind.REGISTRATION
    model = ChangeModel.objects.filter(kind=kind, active=True).order_by("name").first()
    if model is None:
        raise ValidationError(
            {
                "environment": gettext(
                    "No change model for %(environment)s: add an environment policy or an "
                    "active %(kind)s change model."
                )
                % {"environment": environment, "kind": kind}
            }
        )
    return model, None


# Requests ------------------------------------------------------------------------------------


def _lock(pipeline: str, run: str, environment: str) -> None:
    if connection.vendor != "postgresql":
        return  # other databases serialise writers; the unique constraint decides
    digest = hashlib.blake2b(f"{pipeline}\0{run}\0{environment}".encode(), digest_size=4)
    key = int.from_bytes(digest.digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, key])


def _existing(pipeline: str, run: str, environment: str) -> Deployment | None:
    return (
        Deployment.objects.select_related("change")
        .filter(pipeline=pipeline, run=run, environment=environment)
        .first()
    )


def _same(existing: Deployment, data: dict) -> Deployment:
    different = [
        name
        for name in SAME_ON_RETRY
        if data.get(name) and data.get(name) != getattr(existing, name)
    ]
    if different:
        names = ", ".join("version" if n == "software_version" else n for n in different)
        raise RunConflict(
            gettext(
                "%(pipeline)s run %(run)s to %(environment)s is already %(number)s, with "
                "another %(names)s."
            )
            % {
                "pipeline": data["pipeline"],
                "run": data["run"],
                "environment": data["environment"],
                "number": existing.number,
                "names": names,
            }
        )
    return existing


def request_deployment(account: ServiceAccount, data: dict) -> tuple[Deployment, bool]:
    """The deployment of ``data["run"]`` of ``data["pipeline"]`` to
    ``data["environment"]``, and whether this request made it. ``data``: pipeline, run,
    environment, and optionally configuration_items, service, commit, artefact,
    software_version, release, change (an existing one to link), tests_passed, strategy,
    title, description, backout_plan, and the GitHub fields."""
    key = (data["pipeline"], data["run"], data["environment"])
    existing = _existing(*key)
    if existing is not None:
        return _same(existing, data), False
    try:
        with transaction.atomic():
            _lock(*key)
            existing = _existing(*key)
            if existing is not None:
                return _same(existing, data), False
            return _create(account, data), True
    except IntegrityError:
        existing = _existing(*key)
        if existing is None:
            raise
        return _same(existing, data), False


def _change_data(account: ServiceAccount, data: dict, model, policy) -> dict:
    env = Environment(data["environment"]).label.lower()
    what = (
        data.get("software_version")
        or data.get("artefact")
        or gettext("run %(run)s") % {"run": data["run"]}
    )
    now = timezone.now().replace(microsecond=0)
    window = timedelta(minutes=policy.window_minutes if policy else 60)
    facts = [
        gettext("Pipeline: %(value)s") % {"value": data["pipeline"]},
        gettext("Run: %(value)s") % {"value": data["run"]},
        gettext("Commit: %(value)s") % {"value": data.get("commit") or "—"},
        gettext("Artefact: %(value)s") % {"value": data.get("artefact") or "—"},
        gettext("Version: %(value)s") % {"value": data.get("software_version") or "—"},
    ]
    tests = data.get("tests_passed")
    values = {
        "title": (
            data.get("title")
            or gettext("Deploy %(what)s to %(environment)s") % {"what": what, "environment": env}
        )[:200],
        "description": "\n".join([*facts, "", data.get("description") or ""]).strip(),
        "model": model,
        "category": "application",
        "requested_by": account.user,
        "configuration_items": list(data.get("configuration_items") or []),
        "services": [data["service"]] if data.get("service") else [],
        "planned_start": now,
        "planned_end": now + window,
        "implementation_plan": gettext(
            "Automated deployment of %(what)s to %(environment)s by %(pipeline)s (run %(run)s)."
        )
        % {"what": what, "environment": env, "pipeline": data["pipeline"], "run": data["run"]},
        "backout_plan": data.get("backout_plan")
        or gettext("Redeploy the previous version through the same pipeline."),
        "test_plan": {
            True: gettext("The pipeline's automated tests: passed."),
            False: gettext("The pipeline's automated tests: failed."),
            None: gettext("The pipeline's automated tests: not reported."),
        }[tests],
    }
    if policy is not None and policy.assignment_group_id:
        values["assignment_group"] = policy.assignment_group
    return values


def _create(account: ServiceAccount, data: dict) -> Deployment:
    model, policy = policy_for(data["environment"])
    change = data.get("change")
    opened = change is None
    if opened:
        change = change_services.open_change(None, _change_data(account, data, model, policy))
    elif not change.is_open:
        raise ValidationError(
            {
                "change": gettext("%(number)s is %(state)s.")
                % {"number": change.number, "state": change.get_state_display()}
            }
        )
    deployment = services.open_deployment(
        None,
        {
            "title": data.get("title") or "",
            "description": data.get("description") or "",
            "environment": data["environment"],
            "strategy": data.get("strategy") or "big_bang",
            "pipeline": data["pipeline"],
            "run": data["run"],
            "commit": data.get("commit") or "",
            "artefact": data.get("artefact") or "",
            "software_version": data.get("software_version") or "",
            "build": data.get("artefact") or data.get("software_version") or data["run"],
            "release": data.get("release"),
            "configuration_items": list(data.get("configuration_items") or []),
            "tests_passed": data.get("tests_passed"),
            "change": change,
            "service_account": account,
            "assignment_group": policy.assignment_group if policy else None,
            **{k: data[k] for k in ("github_integration", "github_environment") if k in data},
            **(
                {"github_callback_url": data["github_callback_url"]}
                if data.get("github_callback_url")
                else {}
            ),
        },
    )
    note = gettext("%(number)s: requested by %(pipeline)s run %(run)s.") % {
        "number": deployment.number,
        "pipeline": data["pipeline"],
        "run": data["run"],
    }
    if opened:
        stop = _request_stop(change)
        if stop is not None:
            change = _advance(change, stop, note)
        _auto_approve(deployment, change, policy)
    else:
        core.write_journal(
            change,
            JournalEntry.Kind.LINK,
            None,
            body=said(
                gettext_noop("Deployed by %(number)s: requested by %(pipeline)s run %(run)s."),
                number=deployment.number,
                pipeline=data["pipeline"],
                run=data["run"],
            ),
            internal=True,
        )
    return deployment


def _advance(change: Change, until: str, note: str, closure: dict | None = None) -> Change:
    """Move the change along its model's path, step by step, up to ``until`` (when the
    path has it ahead), each move checked as any other; stops at the first refusal and
    journals why on the change."""
    path = change.model.path
    if change.state not in path or until not in path[path.index(change.state) + 1 :]:
        return change
    for target in path[path.index(change.state) + 1 : path.index(until) + 1]:
        data = {"state": target}
        if target == ChangeState.CLOSED:
            data.update(closure or {})
        try:
            change = change_services.platform_update(change, data, body=note)
        except ValidationError as error:
            reason = " ".join(m for ms in error.message_dict.values() for m in ms)
            core.write_journal(
                change,
                JournalEntry.Kind.WORK_NOTE,
                None,
                body=said(
                    gettext_noop("%(note)s Not moved to %(state)s: %(reason)s"),
                    note=note,
                    state=str(ChangeState(target).label).lower(),
                    reason=reason,
                ),
                internal=True,
            )
            break
    return change


def _request_stop(change: Change) -> str | None:
    """Where a pipeline's new change goes when it is requested: the first state ahead on
    its path where authorisation is asked (or, pre-authorised, scheduled); a registration
    stays until the outcome."""
    path = change.model.path
    ahead = path[path.index(change.state) + 1 :] if change.state in path else []
    return next((state for state in ahead if state in REQUEST_STOPS), None)


def _auto_approve(deployment: Deployment, change: Change, policy: EnvironmentPolicy | None):
    """Authorise a low-risk deployment's change without people, where the policy says so:
    risk low, no conflict, the pipeline's tests passed."""
    if policy is None or not policy.auto_approve or change.state != ChangeState.AUTHORISE:
        return
    if not change_approvals.authorisation_missing(change):
        return
    change = Change.objects.get(pk=change.pk)
    refusals = []
    if change.effective_risk != "low":
        refusals.append(said(gettext_noop("the risk is %(risk)s"), risk=change.effective_risk))
    if change.conflicts.exists():
        refusals.append(said(gettext_noop("it has conflicts")))
    if deployment.tests_passed is not True:
        refusals.append(said(gettext_noop("the pipeline did not report its tests passed")))
    if refusals:
        reasons = refusals[0]
        for refusal in refusals[1:]:
            reasons = said(gettext_noop("%(first)s, %(next)s"), first=reasons, next=refusal)
        core.write_journal(
            deployment,
            JournalEntry.Kind.FIELDS,
            None,
            body=said(gettext_noop("Not authorised automatically: %(reasons)s."), reasons=reasons),
            internal=True,
        )
        return
    change_approvals.auto_approve(
        change,
        gettext(
            "Low-risk deployment %(number)s to %(environment)s: risk low, no conflict, tests "
            "passed (policy of %(policy)s)."
        )
        % {
            "number": deployment.number,
            "environment": deployment.environment,
            "policy": policy.get_environment_display().lower(),
        },
    )
    change = Change.objects.get(pk=change.pk)
    if change.state == ChangeState.AUTHORISE and not change_approvals.authorisation_missing(change):
        _advance(
            change,
            ChangeState.SCHEDULED,
            gettext("%(number)s: authorised.") % {"number": deployment.number},
        )


# The gate --------------------------------------------------------------------------------------


def decide(deployment: Deployment, change: Change | None, now) -> GateAnswer:
    """The gate's answer for ``deployment`` at ``now`` (no write)."""
    if deployment.state in FINISHED:
        return GateAnswer(
            GateDecision.PREVENTED,
            [
                gettext("%(number)s is already %(state)s.")
                % {"number": deployment.number, "state": deployment.get_state_display().lower()}
            ],
        )
    if change is None:
        return GateAnswer(
            GateDecision.PREVENTED, [gettext("No change authorises this deployment.")]
        )
    number = {"number": change.number}
    if change.state == ChangeState.CANCELLED:
        return GateAnswer(GateDecision.PREVENTED, [gettext("%(number)s was cancelled.") % number])
    if (
        change.approval_state == ApprovalState.REJECTED
        or change.closure_code == ClosureCode.REJECTED
    ):
        return GateAnswer(GateDecision.PREVENTED, [gettext("%(number)s was rejected.") % number])
    if change.state == ChangeState.CLOSED:
        return GateAnswer(GateDecision.PREVENTED, [gettext("%(number)s is closed.") % number])
    refusal = change_conflicts.implementation_refusal(change, now)
    if refusal:
        return GateAnswer(GateDecision.PREVENTED, [f"{change.number}: {refusal}"])
    if ChangeState.AUTHORISE in change.model.path:
        missing = change_approvals.authorisation_missing(change)
        if missing:
            return GateAnswer(GateDecision.AWAITING, [f"{change.number}: {missing}"])
        return GateAnswer(GateDecision.ALLOWED, [gettext("%(number)s is authorised.") % number])
    if change.approval_state == ApprovalState.NOT_NEEDED:
        return GateAnswer(GateDecision.ALLOWED, [gettext("%(number)s is pre-authorised.") % number])
    return GateAnswer(
        GateDecision.ALLOWED,
        [
            gettext("%(number)s (%(model)s) records the deployment; no authorisation.")
            % {**number, "model": change.model.name}
        ],
    )


def gate(deployment: Deployment, now=None, record: bool = True) -> GateAnswer:
    """Ask the gate now. With ``record``: the answer is kept on the deployment (journalled
    when it changes) and the first ``allowed`` starts a planned deployment."""
    now = now or timezone.now()
    change = (
        Change.objects.select_related("model").get(pk=deployment.change_id)
        if deployment.change_id
        else None
    )
    decision = decide(deployment, change, now)
    if record:
        _record(deployment, decision, now)
    return decision


def _record(deployment: Deployment, decision: GateAnswer, now) -> None:
    with transaction.atomic():
        before = (
            Deployment.objects.filter(pk=deployment.pk)
            .values_list("gate_decision", "gate_reasons")
            .first()
        )
        Deployment.objects.filter(pk=deployment.pk).update(
            gate_decision=decision.decision,
            gate_reasons=list(decision.reasons),
            gate_checked_at=now,
        )
        if before != (decision.decision, list(decision.reasons)):
            core.write_journal(
                deployment,
                JournalEntry.Kind.FIELDS,
                None,
                body=said(
                    gettext_noop("Gate: %(decision)s. %(reasons)s"),
                    decision=decision.decision,
                    reasons=" ".join(decision.reasons),
                )
                if decision.reasons
                else said(gettext_noop("Gate: %(decision)s."), decision=decision.decision),
                data={"gate": [before[0] if before else "", decision.decision]},
                internal=True,
            )
        if (
            decision.decision == GateDecision.ALLOWED
            and deployment.state == DeploymentState.PLANNED
        ):
            services.platform_update(
                deployment,
                {"state": DeploymentState.IN_PROGRESS},
                body=gettext("The gate allowed it."),
            )
    deployment.gate_decision = decision.decision
    deployment.gate_reasons = list(decision.reasons)
    deployment.gate_checked_at = now


# Outcomes ----------------------------------------------------------------------------------


@transaction.atomic
def record_outcome(deployment: Deployment, result: str, log_url: str = "") -> Deployment:
    """A pipeline's outcome (``success`` or ``failure``): the deployment's status and end
    (its version recorded on its CIs when it succeeded), then its change closed as far as
    its model allows. The same outcome again changes nothing; another one is a
    ``RunConflict``."""
    target = DeploymentState.SUCCEEDED if result == "success" else DeploymentState.FAILED
    deployment = core.lock(deployment)
    if deployment.state in FINISHED:
        if deployment.state != target:
            raise RunConflict(
                gettext("%(number)s is already %(state)s.")
                % {"number": deployment.number, "state": deployment.get_state_display().lower()}
            )
    else:
        note = gettext("Outcome from %(pipeline)s: %(result)s.") % {
            "pipeline": deployment.pipeline or gettext("the pipeline"),
            "result": result,
        }
        if deployment.state == DeploymentState.PLANNED:
            deployment = services.platform_update(
                deployment, {"state": DeploymentState.IN_PROGRESS}, body=note
            )
        data = {"state": target}
        if log_url:
            data["log_url"] = log_url
        deployment = services.platform_update(deployment, data, body=note)
    close_change(deployment)
    return deployment


def close_change(deployment: Deployment) -> Change | None:
    """Close the deployment's change once none of its deployments is still open:
    successful, or failed when one of them failed or was rolled back; each move checked,
    the first refusal journalled on the change and the rest left to people."""
    if not deployment.change_id:
        return None
    change = Change.objects.select_related("model").get(pk=deployment.change_id)
    if not change.is_open:
        return change
    waiting = list(
        change.deployments.filter(state__in=OPEN)
        .exclude(pk=deployment.pk)
        .order_by("number")
        .values_list("number", flat=True)
    )
    if waiting:
        return change
    failed = change.deployments.filter(
        state__in=(DeploymentState.FAILED, DeploymentState.ROLLED_BACK)
    ).exists()
    code = ClosureCode.FAILED if failed else ClosureCode.SUCCESSFUL
    numbers = ", ".join(change.deployments.order_by("number").values_list("number", flat=True))
    closure = {
        "closure_code": code,
        "closure_notes": (
            gettext("Failed: %(numbers)s") if failed else gettext("Deployed: %(numbers)s")
        )
        % {"numbers": numbers}
        + (gettext(" (log: %(url)s)") % {"url": deployment.log_url} if deployment.log_url else "")
        + ".",
    }
    return _advance(
        change,
        ChangeState.CLOSED,
        gettext("%(number)s: outcome recorded.") % {"number": deployment.number},
        closure=closure,
    )
