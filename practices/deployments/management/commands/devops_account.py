"""``manage.py devops_account <name>``: a pipeline's service account (made when missing)
and a new API token for the DevOps API (scope ``deployments:write``), printed once.
(``manage.py service_account`` makes service accounts with any scopes; this is it with a
pipeline's scope.)"""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from practices.deployments.accounts import PIPELINE_SCOPES


class Command(BaseCommand):
    help = "Create a pipeline's service account if missing and print a new API token for it."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The account's username, e.g. gitlab-shop.")
        parser.add_argument("--description", default="")
        parser.add_argument("--token-name", default="", help="Default: 'pipeline' and the time.")
        parser.add_argument("--days", type=int, default=None, help="Days until it expires.")

    def handle(self, *args, name, description, token_name, days, **options):
        call_command(
            "service_account",
            name,
            scopes=",".join(PIPELINE_SCOPES),
            description=description,
            token_name=token_name or f"pipeline {timezone.now():%Y-%m-%d %H:%M:%S.%f}",
            stdout=self.stdout,
            **({"days": days} if days is not None else {}),
        )
