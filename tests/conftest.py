"""Shared fixtures: the people of a small service desk, a service and a CI, API clients."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.utils import timezone
from rest_framework.test import APIClient

from catalogue.models import Service
from changes import services as change_services
from changes.models import ChangeKind, ChangeModel
from itsm import celery_app
from itsm.accounts.models import Organization, Role, Team, User
from tests.factories import ci

PASSWORD = "demo-pass-1"


def _may_truncate(sender, connection, **kwargs):
    """The audit trail's tables refuse TRUNCATE (``itsm.audit.db``); a transactional test's
    flush empties every table with it, so the suite's connections (and only they) may."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET itsm.allow_truncate = 'on'")


connection_created.connect(_may_truncate, weak=False, dispatch_uid="tests-may-truncate")


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    """Tasks queued after commit run in-process unless a test starts a real worker."""
    celery_app.conf.task_always_eager = True
    yield


@pytest.fixture(autouse=True)
def _media_and_static(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tests serve static files from the source tree (no collectstatic, no manifest).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _two_factor_policy(settings):
    """Two-factor sign-in is required of administrators by default (TWO_FACTOR_REQUIRED);
    tests that are not about it sign people in with ``force_login``, which has no second
    factor. The sign-in's own tests (tests/accounts) set the policy they test."""
    settings.TWO_FACTOR_REQUIRED = "none"


def make_user(username, role=Role.END_USER, **extra):
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        email=f"{username}@example.com",
        role=role,
        first_name=username.capitalize(),
        **extra,
    )


@pytest.fixture
def org(db):
    return Organization.objects.create(name="Acme")


@pytest.fixture
def agent(db):
    return make_user("agent", Role.AGENT)


@pytest.fixture
def agent2(db):
    return make_user("agent2", Role.AGENT)


@pytest.fixture
def manager(db):
    return make_user("manager", Role.MANAGER)


@pytest.fixture
def admin_user(db):
    return make_user("admin", Role.ADMINISTRATOR, is_superuser=True)


@pytest.fixture
def alice(db, org):
    return make_user("alice", organization=org)


@pytest.fixture
def bob(db, org):
    return make_user("bob", organization=org)


@pytest.fixture
def service_desk(db, agent, manager):
    team = Team.objects.create(name="Service Desk", manager=manager)
    team.members.add(agent, manager)
    return team


@pytest.fixture
def network_team(db, agent2):
    team = Team.objects.create(name="Network")
    team.members.add(agent2)
    return team


@pytest.fixture
def email_service(db, service_desk):
    return Service.objects.create(name="E-mail", owner_team=service_desk)


@pytest.fixture
def mail_server(db, service_desk):
    return ci("mail-01", "server", owner_team=service_desk, attributes={"hostname": "mail-01"})


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api_as():
    return client_for


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"
)


#: The default impact x urgency → priority matrix (1 high .. 3 low; 1 critical .. 5 planning).
DEFAULT_PRIORITY_MATRIX = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 5,
}


@pytest.fixture
def priority_matrix(db):
    """The default priority matrix as rows. A migration seeds it, but the flush after a
    transactional test empties the table, so tests that rely on the rows ask for this."""
    from incidents.models import PriorityRule

    for (impact, urgency), priority in DEFAULT_PRIORITY_MATRIX.items():
        PriorityRule.objects.update_or_create(
            impact=impact, urgency=urgency, defaults={"priority": priority}
        )
    return DEFAULT_PRIORITY_MATRIX


@pytest.fixture
def end_user_client(api_as, alice):
    return api_as(alice)


@pytest.fixture
def agent_client(api_as, agent):
    return api_as(agent)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests make many users; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Change enablement: change models of each kind, a change manager, a planned window.
@pytest.fixture
def change_manager(db):
    return make_user("carol", Role.CHANGE_MANAGER, last_name="Change")


@pytest.fixture
def normal_model(db):
    return ChangeModel.objects.create(
        name="Normal",
        kind=ChangeKind.NORMAL,
        required_fields={
            "authorise": ["implementation_plan", "backout_plan", "test_plan"],
            "scheduled": ["planned_start", "planned_end"],
        },
        lead_time_hours=72,
    )


@pytest.fixture
def standard_model(db):
    return ChangeModel.objects.create(name="Standard", kind=ChangeKind.STANDARD)


@pytest.fixture
def emergency_model(db):
    return ChangeModel.objects.create(
        name="Emergency",
        kind=ChangeKind.EMERGENCY,
        required_fields={"review": ["implementation_plan", "backout_plan"]},
    )


@pytest.fixture
def registration_model(db):
    return ChangeModel.objects.create(name="Registration", kind=ChangeKind.REGISTRATION)


@pytest.fixture
def window():
    """A planned window starting in four days, two hours long."""
    start = (timezone.now() + timedelta(days=4)).replace(microsecond=0)
    return start, start + timedelta(hours=2)


@pytest.fixture
def make_change(agent, normal_model, service_desk):
    def make(actor=None, **data):
        values = {
            "title": "Upgrade the core switches",
            "model": normal_model,
            "assignment_group": service_desk,
            **data,
        }
        return change_services.open_change(actor or agent, values)

    return make
