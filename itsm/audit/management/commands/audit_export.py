"""``manage.py audit_export --since 2026-01-01 --until 2026-01-31 --format csv``: the audit
log's events of a period, to standard output or a file."""

from django.core.management.base import BaseCommand, CommandError

from itsm.audit.exports import EXPORT_FORMATS, parse_moment, stream


class Command(BaseCommand):
    help = "Export the audit log's events (CSV safe to open in a spreadsheet, or JSON lines)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="A date or ISO date-time (from, inclusive).")
        parser.add_argument("--until", help="A date (the whole day) or ISO date-time.")
        parser.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
        parser.add_argument("--output", "-o", help="A file to write (default: stdout).")

    def handle(self, *args, since=None, until=None, format="csv", output=None, **options):
        try:
            since = parse_moment(since) if since else None
            until = parse_moment(until, end=True) if until else None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        _content_type, lines = stream(format, since, until)
        if output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                out.writelines(lines)
        else:
            for line in lines:
                self.stdout.write(line, ending="")
