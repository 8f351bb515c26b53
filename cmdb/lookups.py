"""The CI picker (affected CIs of incidents and problems). See ``itsm.core.lookups``."""

from itsm.core.lookups import Lookup, register

from .models import ConfigurationItem

configuration_items = register(
    Lookup(
        key="cis",
        queryset=lambda: ConfigurationItem.objects.all(),
        search=("name",),
        label=lambda ci: f"{ci.name} ({ci.ci_class.name})",
        detail=lambda ci: f"{ci.get_status_display()} · {ci.get_environment_display()}",
        ordering=("sort_name", "id"),
        select=("ci_class",),
    )
)
