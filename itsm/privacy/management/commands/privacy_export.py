from django.core.management.base import BaseCommand, CommandError

from itsm.accounts.models import User
from itsm.privacy import services


class Command(BaseCommand):
    help = "Export a person's data (right of access) as one JSON document."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--output", help="A file to write (by default standard output).")

    def handle(self, *args, username, output=None, **options):
        person = User.objects.filter(username=username).first()
        if person is None:
            raise CommandError(f"No user {username!r}.")
        chunks = services.export(person)  # all of it, as an administrator sees it
        if output:
            with open(output, "w", encoding="utf-8") as out:
                for chunk in chunks:
                    out.write(chunk)
            self.stderr.write(f"Wrote {output}.")
        else:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
