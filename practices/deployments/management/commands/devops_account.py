"""``manage.py devops_account <name>``: a pipeline's service account (made when missing)
and a new API token for the DevOps API (scope ``deployments:write``), printed once.
(``manage.py service_account`` makes service accounts with any scopes.)"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from practices.deployments.accounts import service_account


class Command(BaseCommand):
    help = "Create a pipeline's service account if missing and print a new API token for it."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The account's username, e.g. gitlab-shop.")
        parser.add_argument("--description", default="")
        parser.add_argument("--token-name", default="", help="Default: 'pipeline' and the time.")
        parser.add_argument("--days", type=int, default=None, help="Days until it expires.")

    def handle(self, *args, name, description, token_name, days, **options):
        try:
            _account, clear = service_account(name, description, name=token_name, days=days)
        except ValueError as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from None
        self.stdout.write(clear)
