from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from itsm.accounts.models import User
from itsm.privacy import services


class Command(BaseCommand):
    help = (
        "Erase a person's data (right to erasure): their identifiers are replaced by a "
        "pseudonym everywhere, their account is closed; records and history stay."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="The request it answers.")
        parser.add_argument(
            "--as",
            dest="actor",
            help="The administrator doing it (by default the first active superuser).",
        )

    def handle(self, *args, username, reason, actor=None, **options):
        person = User.objects.filter(username=username).first()
        if person is None:
            raise CommandError(f"No user {username!r}.")
        admins = User.objects.filter(is_active=True)
        admin = (
            admins.filter(username=actor).first()
            if actor
            else admins.filter(is_superuser=True).order_by("pk").first()
        )
        if admin is None or not services.is_administrator(admin):
            raise CommandError("Name an active administrator with --as.")
        if not reason.strip():
            raise CommandError("--reason: say why.")
        try:
            result = services.erase(person, admin, reason=reason)
        except ValidationError as refused:
            raise CommandError(" ".join(refused.messages)) from None
        if result.erased:
            self.stdout.write(f"Erased: person #{person.pk} is now {result.person.username}.")
        else:
            self.stdout.write(f"Person #{person.pk} had been erased already; nothing changed.")
