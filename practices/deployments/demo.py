"""Demo data of deployment management, loaded after release management: the ERP feature
pack deployed to production (succeeded: the SAP CI's version moves in the CMDB's
history) and planned for the disaster recovery site; the environment policies of the
DevOps gate (registration outside production, normal in production) where change
enablement's demo made those models, and a pipeline's service account. Skipped when
the deployments exist."""

from changes.models import ChangeKind, ChangeModel
from cmdb.models import Environment

from . import services
from .accounts import service_account
from .models import Deployment, EnvironmentPolicy, Strategy
from .workflows import DeploymentState as S


def _policies(context) -> None:
    for environment in Environment.values:
        kind = (
            ChangeKind.NORMAL if environment == Environment.PRODUCTION else ChangeKind.REGISTRATION
        )
        model = ChangeModel.objects.filter(kind=kind, active=True).order_by("name").first()
        if model is not None:
            EnvironmentPolicy.objects.get_or_create(
                environment=environment,
                defaults={
                    "change_model": model,
                    "assignment_group": context.teams["Applications"],
                    "auto_approve": environment != Environment.PRODUCTION,
                },
            )


def load(context) -> None:
    _policies(context)
    service_account("pipeline-erp", "The ERP's delivery pipeline (demo).")
    release = context.shared.get("demo_release")
    if release is None or Deployment.objects.filter(release=release).exists():
        return
    paul = context.user("paul")
    cis = list(release.configuration_items.all())
    production = services.open_deployment(
        paul,
        {
            "release": release,
            "environment": Environment.PRODUCTION,
            "strategy": Strategy.BLUE_GREEN,
            "configuration_items": cis,
            "deployed_by": paul,
            "assignment_group": context.teams["Applications"],
        },
    )
    for state in (S.IN_PROGRESS, S.SUCCEEDED):
        production = services.update_deployment(production, paul, {"state": state})
    recovery = services.open_deployment(
        paul,
        {
            "release": release,
            "environment": Environment.DISASTER_RECOVERY,
            "strategy": Strategy.BIG_BANG,
            "assignment_group": context.teams["Applications"],
            "description": "After a week in production without incidents.",
        },
    )
    context.log(f"  deployments {production.number} (succeeded), {recovery.number} (planned)")
