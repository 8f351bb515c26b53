"""``manage.py service_account <name> --scopes … --days …``: a service account (a user
with no usable password, for a pipeline or a monitoring system), made when missing, and a
new API token for it, printed once."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from itsm.api import tokens


class Command(BaseCommand):
    help = "Create a service account if missing and print a new API token for it (once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The account's username, e.g. monitoring.")
        parser.add_argument(
            "--scopes",
            required=True,
            help="Comma-separated: read, write, <practice>:read, <practice>:write "
            f"(practices: {', '.join(tokens.practices())}).",
        )
        parser.add_argument("--days", type=int, default=None, help="Days until it expires.")
        parser.add_argument("--description", default="")
        parser.add_argument("--owner", default="", help="Username of the person answering for it.")
        parser.add_argument("--token-name", default="", help="Default: 'token' and the time.")

    def handle(self, *args, name, scopes, days, description, owner, token_name, **options):
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(username=owner).first()
            if owner_user is None:
                raise CommandError(f"No user {owner}.")
        try:
            account = tokens.service_account(name, description=description, owner=owner_user)
            _token, clear = tokens.issue(
                account.user,
                name=token_name or f"token {timezone.now():%Y-%m-%d %H:%M:%S}",
                scopes=scopes,
                days=days,
                created_by=owner_user,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from None
        self.stdout.write(clear)
