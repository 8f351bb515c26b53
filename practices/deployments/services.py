"""Deployment operations: recording a deployment (by a person or, through ``devops``, a
pipeline), changing it and moving its status; a successful deployment records the
deployed version on the CIs it names, in the CMDB's history. Each write is one
transaction (the kernel's write path)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from cmdb import services as cmdb_services
from cmdb.attributes import Schemas
from itsm.core import services as core
from itsm.core import writes
from itsm.core.i18n import said
from itsm.core.models import JournalEntry

from .models import Deployment
from .workflows import DeploymentState

#: The CI attribute that holds a CI's version (``cmdb.defaults``: applications,
#: databases, software).
VERSION_ATTRIBUTE = "version"

FIELDS = (
    "title",
    "description",
    "release",
    "build",
    "environment",
    "strategy",
    "software_version",
    "configuration_items",
    "change",
    "deployed_by",
    "assignment_group",
    "assigned_to",
    "pipeline",
    "run",
    "commit",
    "artefact",
    "log_url",
    "tests_passed",
)
#: What the platform sets besides (a pipeline's request, a GitHub protection rule).
PLATFORM_FIELDS = (
    *FIELDS,
    "service_account",
    "github_integration",
    "github_environment",
    "github_callback_url",
)
M2M = ("configuration_items",)


def _clean(data: dict, actor) -> dict:
    for name in ("title", "build", "software_version", "pipeline", "run", "commit", "artefact"):
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
    return data


def _derive(deployment: Deployment, actor, step: writes.Write) -> None:
    if step.created:
        if not deployment.software_version and deployment.release_id:
            deployment.software_version = deployment.release.release_version
        if not deployment.title:
            what = (
                deployment.release.title
                if deployment.release_id
                else deployment.build or deployment.artefact or gettext("a build")
            )
            version = f" {deployment.software_version}" if deployment.software_version else ""
            deployment.title = (
                gettext("Deploy %(what)s to %(environment)s")
                % {
                    "what": f"{what}{version}",
                    "environment": deployment.get_environment_display().lower(),
                }
            )[:200]
    writes.unassign_outside_group(deployment, actor, step)


def _validate(deployment: Deployment, changed: set | None) -> None:
    def touched(*names) -> bool:
        return changed is None or any(name in changed for name in names)

    errors: dict = {}
    if touched("environment") and not deployment.environment:
        errors["environment"] = gettext("Choose the environment deployed to.")
    if (
        changed is None
        and not deployment.release_id
        and not deployment.build
        and not deployment.software_version
        and not deployment.artefact
    ):
        errors["build"] = gettext("Name the release or the build deployed.")
    if touched("change") and deployment.change_id:
        change = deployment.change
        if not change.is_open:
            errors["change"] = gettext("%(number)s is %(state)s.") % {
                "number": change.number,
                "state": change.get_state_display().lower(),
            }
    if touched("run", "pipeline") and deployment.run and not deployment.pipeline:
        errors["pipeline"] = gettext("Name the pipeline the run belongs to.")
    if touched("deployed_by") and deployment.deployed_by_id:
        if not deployment.deployed_by.is_agent:
            errors["deployed_by"] = gettext("%(person)s does not work in IT.") % {
                "person": deployment.deployed_by
            }
    writes.check_assignment(deployment, changed, errors)
    writes.refuse(errors)


def _after(deployment: Deployment, actor, step: writes.Write) -> None:
    if step.created and deployment.release_id and not step.m2m_before.get("configuration_items"):
        cis = list(deployment.release.configuration_items.all())
        if cis and not deployment.configuration_items.exists():
            deployment.configuration_items.set(cis)
    if step.moved(to=DeploymentState.SUCCEEDED):
        record_versions(deployment, actor)


SPEC = writes.WriteSpec(
    model=Deployment,
    create=writes.Access(staff=FIELDS, platform=PLATFORM_FIELDS),
    update=writes.Access(
        staff=(*FIELDS, "state", "started_at", "ended_at"),
        platform=(*PLATFORM_FIELDS, "state", "started_at", "ended_at"),
    ),
    m2m=M2M,
    refused=_("This field cannot be changed."),
    clean=_clean,
    initial=lambda actor, data, options: {"state": DeploymentState.PLANNED},
    derive=_derive,
    validate=_validate,
    guard=writes.reject_end_users,
    created_data=lambda deployment: {
        "environment": deployment.environment,
        "version": deployment.software_version,
    },
    after=_after,
    on_assign=writes.assigned_notice(_("deployment")),
)


def _require_staff(actor) -> None:
    if not writes.is_staff(actor):
        raise PermissionDenied


def open_deployment(actor, data: dict) -> Deployment:
    _require_staff(actor)
    return writes.open(SPEC, actor, data)


def update_deployment(
    deployment: Deployment, actor, data: dict, expected_version=None
) -> Deployment:
    return writes.change(SPEC, deployment, actor, data, expected_version)


def platform_update(deployment: Deployment, data: dict, body: str = "") -> Deployment:
    """A move the platform makes (a pipeline's outcome), journalled as the platform's."""
    return writes.change(SPEC, deployment, None, data, state_note=body)


def comment(deployment, actor, body: str, internal: bool = False):
    _require_staff(actor)
    return core.add_comment(deployment, actor, body, internal)


def attach(deployment, actor, uploaded_file, internal: bool = False):
    _require_staff(actor)
    return core.add_attachment(deployment, actor, uploaded_file, internal)


def record_versions(deployment: Deployment, actor) -> list[str]:
    """The deployed version on every CI the deployment names whose class has a version
    attribute and that is in the environment deployed to, through the CMDB's write path (each change in the CI's history); the
    deployment's journal says which CIs were updated and which have no version."""
    version = deployment.software_version
    if not version:
        return []
    environment = deployment.get_environment_display().lower()
    schemas = Schemas()
    updated, skipped, elsewhere = [], [], []
    for ci in deployment.configuration_items.select_related("ci_class").order_by("name"):
        if ci.environment != deployment.environment:
            elsewhere.append(ci.name)
            continue
        if VERSION_ATTRIBUTE not in schemas.get(ci.ci_class_id).definitions:
            skipped.append(ci.name)
            continue
        if (ci.attributes or {}).get(VERSION_ATTRIBUTE) == version:
            continue
        cmdb_services.update_ci(
            ci, actor, {"attributes": {VERSION_ATTRIBUTE: version}}, schemas=schemas
        )
        core.write_journal(
            ci,
            JournalEntry.Kind.FIELDS,
            actor,
            body=said(
                gettext_noop("%(number)s deployed version %(version)s (%(environment)s)."),
                number=deployment.number,
                version=version,
                environment=environment,
            ),
            internal=True,
        )
        updated.append(ci.name)
    parts = []
    if updated:
        parts.append(
            said(
                gettext_noop("Version %(version)s recorded in the CMDB on %(cis)s."),
                version=version,
                cis=", ".join(updated),
            )
        )
    if skipped:
        parts.append(
            said(
                gettext_noop("No version attribute on %(cis)s: not recorded."),
                cis=", ".join(skipped),
            )
        )
    if elsewhere:
        parts.append(
            said(
                gettext_noop("%(cis)s not in %(environment)s: version not recorded."),
                cis=", ".join(elsewhere),
                environment=environment,
            )
        )
    if parts:
        body = parts[0]
        for part in parts[1:]:
            body = said(gettext_noop("%(done)s %(next)s"), done=body, next=part)
        core.write_journal(deployment, JournalEntry.Kind.FIELDS, actor, body=body, internal=True)
    return updated
