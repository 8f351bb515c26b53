"""Assets in the kernel's search: found by asset tag, serial number or model, and opened
directly when the asset tag is typed whole. End users find only their own devices."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.core.search import CONTAINS, SearchSource

FIELDS = {"asset_tag": "A", "serial_number": "A", "model": "B"}


def _queryset(user):
    from .models import Asset

    return Asset.objects.visible_to(user).select_related("assigned_to")


def _url(asset, user) -> str:
    if user.is_agent:
        return asset.get_absolute_url()
    return reverse("portal-home") + "#my-devices"


def _summary(asset, user) -> str:
    parts = [asset.model, asset.serial_number]
    if user.is_agent and asset.assigned_to_id:
        parts.append(asset.assigned_to.get_full_name() or asset.assigned_to.username)
    return " · ".join(p for p in parts if p)


def source() -> SearchSource:
    from .models import ASSET_TAG, Asset

    return SearchSource(
        key="assets",
        label=_("Assets"),
        singular=_("Asset"),
        model=Asset,
        queryset=_queryset,
        fields=FIELDS,
        url=_url,
        summary=_summary,
        match=CONTAINS,
        reference_field="asset_tag",
        reference_pattern=ASSET_TAG.regex.pattern.strip("^$"),
        order=60,
    )
