"""Live figures of deployment management for the practice map (the last 30 days)."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Deployment
from .workflows import FINISHED, DeploymentState


def deployment_kpis() -> list[tuple[str, str]]:
    since = timezone.now() - timedelta(days=30)
    counts = Deployment.objects.filter(
        Q(ended_at__gte=since) | Q(ended_at__isnull=True, created_at__gte=since)
    ).aggregate(
        finished=Count("pk", filter=Q(state__in=FINISHED)),
        succeeded=Count("pk", filter=Q(state=DeploymentState.SUCCEEDED)),
        production=Count("pk", filter=Q(environment="production", state__in=FINISHED)),
        pipeline=Count("pk", filter=Q(state__in=FINISHED) & ~Q(pipeline="")),
    )
    finished, succeeded = counts["finished"], counts["succeeded"]
    rate = (
        gettext("%(percent)s%% (%(succeeded)s of %(finished)s)")
        % {
            "percent": f"{100 * succeeded / finished:.0f}",
            "succeeded": succeeded,
            "finished": finished,
        }
        if finished
        else "—"
    )
    return [
        (_("Deployment success rate (30 days)"), rate),
        (_("Deployments to production (30 days)"), str(counts["production"])),
        (_("Deployments by pipelines (30 days)"), str(counts["pipeline"])),
    ]
