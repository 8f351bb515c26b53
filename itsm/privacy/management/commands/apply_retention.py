from django.core.management.base import BaseCommand

from itsm.privacy import retention


class Command(BaseCommand):
    help = (
        "Apply the active retention rules: closed records older than a rule's years are "
        "pseudonymised or removed (legal holds skipped). A second run does nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be done; change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        result = retention.apply(dry_run=dry_run)
        verb = "Would pseudonymise" if dry_run else "Pseudonymised"
        self.stdout.write(f"{verb} {result.pseudonymised} record(s).")
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(f"{verb} {result.removed} record(s).")
        self.stdout.write(f"Skipped {result.held} record(s) under a legal hold.")
        if result.kept_referenced:
            self.stdout.write(
                f"Kept {result.kept_referenced} record(s) other records still refer to."
            )
