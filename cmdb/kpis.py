"""Live figures of service configuration management for the practice map."""

from django.db.models import Count, Q

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
        ("Configuration items (not retired)", str(items["total"])),
        ("Live", str(items["live"])),
        ("Business services", str(items["services"])),
        ("Relationships", str(Relationship.objects.count())),
        ("Without an owner team", str(items["unowned"])),
        (
            "Last import",
            last.finished_at.strftime("%Y-%m-%d %H:%M UTC") if last and last.finished_at else "—",
        ),
    ]
