"""``manage.py devops_account <name>``: a pipeline's service account and its API token
(made when missing; the same token is printed again otherwise)."""

from django.core.management.base import BaseCommand, CommandError

from practices.deployments.accounts import service_account


class Command(BaseCommand):
    help = "Create (or show) a pipeline's service account and print its API token."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The account's username, e.g. gitlab-shop.")
        parser.add_argument("--description", default="")

    def handle(self, *args, name, description, **options):
        try:
            _account, token = service_account(name, description)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(token.key)
