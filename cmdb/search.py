"""Configuration items in the kernel's search: found by name (or words of their
description) as staff type, with their class, environment and status beside the name."""

from django.utils.translation import gettext_lazy as _

from itsm.core.search import CONTAINS, SearchSource

FIELDS = {"name": "A", "description": "B"}


def _queryset(user):
    from .models import ConfigurationItem

    return ConfigurationItem.objects.visible_to(user).select_related("ci_class")


def _summary(ci, user) -> str:
    return f"{ci.ci_class.name} · {ci.get_environment_display()}"


def source() -> SearchSource:
    from .models import ConfigurationItem

    return SearchSource(
        key="cis",
        label=_("Configuration items"),
        singular=_("CI"),
        model=ConfigurationItem,
        queryset=_queryset,
        fields=FIELDS,
        url=lambda ci, user: ci.get_absolute_url(),
        summary=_summary,
        match=CONTAINS,
        order=50,
    )
