"""The service picker (an incident's service, a problem's services). See
``itsm.core.lookups``."""

from itsm.core.lookups import Lookup, register

from .models import Service

services = register(
    Lookup(
        key="services",
        queryset=lambda: Service.objects.all(),
        search=("name",),
        detail=lambda service: service.get_status_display(),
        ordering=("name",),
    )
)
