"""``manage.py audit_verify``: recompute the audit log's hash chain; exit 1 naming the first
broken sequence number."""

from django.core.management.base import BaseCommand, CommandError

from itsm.audit.verify import verify


class Command(BaseCommand):
    help = "Recompute the audit log's hash chain and name the first event that breaks it."

    def handle(self, *args, **options):
        result = verify()
        if not result.ok:
            raise CommandError(
                f"The audit log is broken at event #{result.broken}: {result.reason} "
                f"({result.checked} events before it verified).",
                returncode=1,
            )
        self.stdout.write(f"The audit log verifies: {result.checked} events, one chain.")
