"""The matrix's data: the demo (one row of nearly every type, so every URL has a sample),
a person of each role, and for each type end users own, one row of end user A (the
sample every detail URL opens) and one of end user B (so that B's lists are not empty
and A's rows must be missing from them)."""

from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from catalogue import services as catalogue_services
from catalogue.models import Approval, CatalogueItem, ServiceRequest
from incidents.models import Incident
from itsm.accounts.models import Role, Team, User
from itsm.api import tokens
from itsm.api.models import ApiToken
from itsm.core import services as core_services
from itsm.core.models import Attachment, RecordLink
from practices.assets.models import Asset
from practices.service_desk.models import SavedView
from problems import services as problem_services
from tests import factories

from .policy import ROLES

#: The types whose rows people own: the sample is A's, and B has one too.
OWNED_MODELS = frozenset(
    {Incident, ServiceRequest, Asset, Approval, Attachment, SavedView, ApiToken}
)
#: Who owns the sample row (``owned[model]["a"]``) of a model, where it is not end user A.
OWNER_ROLE = {SavedView: "agent"}


class MatrixData:
    """Who plays each role, what A and B own, and each URL's sample arguments."""

    def __init__(self):
        self.users: dict[str, User | None] = {}
        self.owned: dict[type, dict[str, object]] = {}  # model -> {"a": row, "b": row}
        #: Text that only A's rows carry: none of it may reach B or the anonymous.
        self.secrets_of_a: list[str] = []
        self.secrets_of_b: list[str] = []
        #: Text only staff may read (a work note on A's own incident, a problem that is
        #: no public known error): none of it may reach an end user or the anonymous.
        self.staff_secrets: list[str] = []
        self.extra: dict[str, object] = {}

    def owner_role(self, model) -> str | None:
        if model not in self.owned:
            return None
        return OWNER_ROLE.get(model, "end_user_a")

    def user(self, role_name: str):
        return self.users[role_name]

    def sample(self, model):
        """The row a detail URL of ``model`` opens: A's when end users own rows of it."""
        if model in self.owned:
            return self.owned[model]["a"]
        return model._default_manager.order_by("pk").first()


def _make_users(data: MatrixData) -> None:
    for role in ROLES:
        if role.user is None:
            data.users[role.name] = None
            continue
        fields = {"role": Role.END_USER, **role.user}
        groups = fields.pop("groups", [])
        username = f"matrix_{role.name}"
        user = User(
            username=username,
            email=f"{username}@example.com",
            first_name=role.name.replace("_", " ").title(),
            last_name="Matrix",
            **fields,
        )
        user.set_unusable_password()
        user.save()
        if groups:
            user.groups.add(*Group.objects.filter(name__in=groups))
            assert user.groups.filter(name__in=groups).count() == len(groups), groups
            user = User.objects.get(pk=user.pk)  # the rights the groups give, re-read
        data.users[role.name] = user


def _owned_rows(data: MatrixData) -> None:
    a, b = data.user("end_user_a"), data.user("end_user_b")
    agent = data.user("agent")
    # Incidents: reported by each end user on the portal.
    incidents = {}
    for key, person in (("a", a), ("b", b)):
        incidents[key] = factories.incident(
            person, title=f"Matrix private incident of {key.upper()} zq{key}9"
        )
    data.owned[Incident] = incidents
    # Service requests: each orders an item everyone may order.
    item = CatalogueItem.objects.orderable_by(a).filter(variables__isnull=True).first()
    if item is None:
        item = CatalogueItem.objects.create(
            name="Matrix item", category=CatalogueItem.objects.first().category
        )
    requests = {}
    for key, person in (("a", a), ("b", b)):
        requests[key] = catalogue_services.submit_request(person, item, {})
    data.owned[ServiceRequest] = requests
    # Assets assigned to each.
    assets = {}
    for key, person in (("a", a), ("b", b)):
        assets[key] = Asset.objects.create(
            asset_tag=f"MATRIX-{key.upper()}",
            model=f"Matrix laptop of {key.upper()} zq{key}8",
            assigned_to=person,
        )
    data.owned[Asset] = assets
    # Approvals waiting on each (of the other's request: an approver is not the requester).
    third = User.objects.get(username="dave")  # a demo end user
    third_request = catalogue_services.submit_request(third, item, {})
    approvals = {}
    for key, person in (("a", a), ("b", b)):
        approvals[key] = Approval.objects.create(request=third_request, level=9, approver=person)
    data.owned[Approval] = approvals
    # Attachments on each one's incident; a link from A's incident to B's.
    attachments = {}
    for key in ("a", "b"):
        upload = SimpleUploadedFile(f"matrix-{key}.txt", b"matrix file", "text/plain")
        attachments[key] = core_services.add_attachment(
            incidents[key], data.user(f"end_user_{key}"), upload
        )
    data.owned[Attachment] = attachments
    data.extra["link"] = core_services.link_records(incidents["a"], incidents["b"], agent)
    # Saved views of two agents: one may not remove the other's.
    views = {}
    for key, role in (("a", "agent"), ("b", "manager")):
        views[key] = SavedView.objects.create(
            owner=data.user(role), list_key="incidents", name=f"Matrix view {key}"
        )
    data.owned[SavedView] = views
    # API tokens of each end user.
    data.owned[ApiToken] = {
        key: ApiToken.objects.get(pk=_token_pk(data.user(f"end_user_{key}"), key))
        for key in ("a", "b")
    }

    note = "Matrix internal work note zqn6"
    core_services.add_comment(incidents["a"], agent, note, internal=True)
    problem = problem_services.open_problem(
        agent, {"title": "Matrix staff-only problem zqp5", "description": "Root cause zqp5."}
    )
    core_services.link_records(incidents["a"], problem, agent)
    data.staff_secrets.extend([note, problem.title, problem.number])

    # An article waiting for review by a team none of the matrix's people are in: only
    # knowledge reviewers (by right) may publish it or send it back.
    from practices.knowledge import services as knowledge_services
    from practices.knowledge.models import KnowledgeCategory

    demo_author = User.objects.get(username="paul")  # a demo agent of the Applications team
    article = knowledge_services.create_article(
        demo_author,
        {
            "title": "Matrix article in review",
            "body": "Steps.",
            "category": KnowledgeCategory.objects.order_by("pk").first(),
            "assignment_group": Team.objects.get(name="Applications"),
        },
    )
    data.extra["article_in_review"] = knowledge_services.submit(article, demo_author)

    for key, secrets in (("a", data.secrets_of_a), ("b", data.secrets_of_b)):
        secrets.extend(
            [
                incidents[key].number,
                incidents[key].title,
                requests[key].number,
                assets[key].asset_tag,
                assets[key].model,
            ]
        )


def _token_pk(user, key) -> int:
    issued = tokens.issue(user, name=f"Matrix token {key}", scopes=["read"])
    token = issued[0] if isinstance(issued, tuple) else issued
    return token.pk


def build() -> MatrixData:
    call_command("load_demo", verbosity=0)
    data = MatrixData()
    _make_users(data)
    _owned_rows(data)
    assert RecordLink.objects.exists()
    return data


@contextmanager
def built_for_the_module(django_db_blocker, tmp_path_factory):
    """Around a module's data, built once: media in a folder of its own, static files from
    the source tree, the database open to the module, and everything rolled back at the
    end (each case runs in a savepoint of this transaction)."""
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with (
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"), STORAGES=storages),
        django_db_blocker.unblock(),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
