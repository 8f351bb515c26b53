"""Live figures of service configuration management for the practice map."""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from .models import ConfigurationItem, ImportRun, Relationship, Status


def cmdb_kpis() -> list[tuple[str, str]]:
    items = ConfigurationItem.objects.aggregate(
        total=Count("pk", filter=~Q(status=Status.RETIRED)),
        live=Count("pk", filter=Q(status=Status.LIVE)),
        services=Count("pk", filter=Q(ci_class__is_service=True) & ~Q(status=Status.RETIRED)),
        unowned=Count("pk", filter=Q(owner_team__isnull=True) & ~Q(status=Status.RETIRED)),
    )
    last = ImportRun.objects.filter(status=ImportRun.Status.APPLIED).only("finished_at").first()
    return [
        (_("Configuration items (not retired)"), str(items["total"])),
        (_("Live"), str(items["live"])),
        (_("Business services"), str(items["services"])),
        (_("Relationships"), str(Relationship.objects.count())),
        (_("Without an owner team"), str(items["unowned"])),
        (
            _("Last import"),
            last.finished_at.strftime("%Y-%m-%d %H:%M UTC") if last and last.finished_at else "—",
        ),
    ]
