"""Deployments in the kernel's search (staff only): by number, title, version or the
pipeline and run that asked for them."""

from django.utils.translation import gettext_lazy as _

from itsm.core.search import CONTAINS, SearchSource

FIELDS = {"title": "A", "software_version": "B", "pipeline": "C", "run": "C"}


def source() -> SearchSource:
    from .models import Deployment

    return SearchSource(
        key="deployments",
        label=_("Deployments"),
        singular=_("Deployment"),
        model=Deployment,
        queryset=lambda user: Deployment.objects.visible_to(user),
        fields=FIELDS,
        url=lambda deployment, user: deployment.get_absolute_url(),
        summary=lambda deployment, user: (
            f"{deployment.number} · {deployment.get_environment_display()}"
        ),
        match=CONTAINS,
        order=61,
    )
