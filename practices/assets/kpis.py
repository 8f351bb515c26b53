"""Live figures of IT asset management for the practice map."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import compliance
from .models import Asset, Contract
from .workflows import ACTIVE_STATES, AssetState


def asset_kpis() -> list[tuple[str, str]]:
    today = timezone.localdate()
    soon = today + timedelta(days=30)
    assets = Asset.objects.aggregate(
        active=Count("pk", filter=Q(state__in=ACTIVE_STATES)),
        deployed=Count("pk", filter=Q(state=AssetState.DEPLOYED)),
        in_repair=Count("pk", filter=Q(state=AssetState.IN_REPAIR)),
        warranty=Count(
            "pk",
            filter=Q(state__in=ACTIVE_STATES, warranty_end__gte=today, warranty_end__lte=soon),
        ),
    )
    contracts = Contract.objects.filter(end_date__gte=today).aggregate(
        expiring=Count("pk", filter=Q(end_date__lte=soon)),
        renewing=Count("pk", filter=Q(renewal_date__gte=today, renewal_date__lte=soon)),
    )
    status = compliance.summary(compliance.report(today))
    return [
        (_("Assets in the estate"), str(assets["active"])),
        (_("Deployed"), str(assets["deployed"])),
        (_("In repair"), str(assets["in_repair"])),
        (_("Warranties ending in 30 days"), str(assets["warranty"])),
        (
            _("Contracts renewing or ending in 30 days"),
            str(contracts["expiring"] + contracts["renewing"]),
        ),
        (_("Software under-licensed"), str(status[compliance.ComplianceStatus.UNDER])),
    ]
