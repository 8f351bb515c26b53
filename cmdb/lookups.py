"""The CI picker (affected CIs of incidents and problems). See ``itsm.core.lookups``."""

from itsm.core.lookups import Lookup, register

from .models import ConfigurationItem

configuration_items = register(
    Lookup(
        key="cis",
        queryset=lambda: ConfigurationItem.objects.all(),
        search=("name",),
        detail=lambda ci: f"{ci.ci_class.name} · {ci.get_status_display()}",
        ordering=("name", "id"),
        select=("ci_class",),
    )
)
