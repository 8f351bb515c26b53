"""LDAP / Active Directory sign-in through the ordinary sign-in form, against Debian's
slapd on loopback: accounts created just in time, roles and teams from LDAP groups."""

import pytest

from itsm.accounts.models import Role, Team, User
from itsm.sso.models import BreakGlassAccount, GroupMapping

from .conftest import apply_sso, audited, signed_in_user

pytestmark = pytest.mark.django_db

_people_made = set()


@pytest.fixture
def directory(slapd):
    """slapd's people and groups (made once per session): lena is a service desk agent
    in the network team, lars a plain member of staff, nora in no allowed group."""
    if not _people_made:
        slapd.add_person("lena", "lenapw", given="Lena", sn="Ldap", mail="lena@example.test")
        slapd.add_person("lars", "larspw", given="Lars", sn="Second", mail="lars@example.test")
        slapd.add_person("nora", "norapw", given="Nora", sn="Outside", mail="nora@example.test")
        slapd.add_person("keeper", "keeperpw", given="Keeper", sn="Local")
        slapd.add_group("itsm-users", "lena", "lars", "keeper")
        slapd.add_group("service-desk", "lena")
        slapd.add_group("itsm-admins")
        slapd.add_group("Network")
        _people_made.add(True)
    slapd.set_members("service-desk", "lena")
    slapd.set_members("itsm-admins")
    slapd.set_members("Network", "lena")
    return slapd


@pytest.fixture
def ldap_on(settings, directory):
    apply_sso(settings, directory.env(LDAP_REQUIRE_GROUP=directory.group_dn("itsm-users")))
    network = Team.objects.create(name="Network")
    GroupMapping.objects.create(source="ldap", external_group="service-desk", role=Role.AGENT)
    GroupMapping.objects.create(
        source="ldap", external_group="itsm-admins", role=Role.ADMINISTRATOR
    )
    # A mapping by full DN, any letter case.
    GroupMapping.objects.create(
        source="ldap", external_group=directory.group_dn("network").upper(), team=network
    )
    return network


def sign_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_right_password_signs_in_and_creates_the_account_with_mapped_role_and_team(client, ldap_on):
    answer = sign_in(client, "lena", "lenapw")
    assert answer.status_code == 302
    user = signed_in_user(client)
    assert user is not None and user.username == "lena"
    assert (user.first_name, user.last_name, user.email) == ("Lena", "Ldap", "lena@example.test")
    assert user.role == Role.AGENT
    assert list(user.teams.values_list("name", flat=True)) == ["Network"]
    assert not user.has_usable_password()


def test_wrong_password_is_refused(client, ldap_on):
    answer = sign_in(client, "lena", "not-her-password")
    assert answer.status_code == 200
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="lena").exists()


def test_person_outside_the_required_group_is_refused(client, ldap_on):
    answer = sign_in(client, "nora", "norapw")
    assert answer.status_code == 200
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="nora").exists()


def test_group_change_in_ldap_changes_role_and_team_at_next_sign_in(client, ldap_on, directory):
    manual = Team.objects.create(name="Manual")
    sign_in(client, "lena", "lenapw")
    lena = signed_in_user(client)
    manual.members.add(lena)
    assert lena.role == Role.AGENT

    directory.set_members("itsm-admins", "lena")
    client.logout()
    sign_in(client, "lena", "lenapw")
    lena.refresh_from_db()
    assert lena.role == Role.ADMINISTRATOR and lena.is_staff
    assert audited(
        "sso.role_changed",
        target_id=str(lena.pk),
        before={"role": "agent"},
        after={"role": "administrator"},
    )

    directory.set_members("itsm-admins")
    directory.set_members("service-desk")
    directory.set_members("Network")
    client.logout()
    sign_in(client, "lena", "lenapw")
    lena.refresh_from_db()
    assert lena.role == Role.END_USER and not lena.is_staff
    # The mapped team was left; the team an administrator added her to was not touched.
    assert list(lena.teams.values_list("name", flat=True)) == ["Manual"]


def test_person_in_no_mapped_group_is_an_end_user(client, ldap_on):
    sign_in(client, "lars", "larspw")
    lars = signed_in_user(client)
    assert lars.username == "lars" and lars.role == Role.END_USER
    assert not lars.teams.exists()


def test_ldap_never_signs_in_as_a_break_glass_account(client, ldap_on):
    """A directory entry with the username of the local break-glass account does not
    become it (nor can its LDAP password open it)."""
    keeper = User.objects.create_user(
        "keeper", password="local-keeper-pw-1", role=Role.ADMINISTRATOR
    )
    BreakGlassAccount.objects.create(user=keeper)
    sign_in(client, "keeper", "keeperpw")
    assert signed_in_user(client) is None
    sign_in(client, "keeper", "local-keeper-pw-1")
    assert signed_in_user(client) == keeper


def test_local_passwords_work_as_before_with_ldap_on(client, ldap_on):
    User.objects.create_user("local", password="local-pass-1")
    sign_in(client, "local", "local-pass-1")
    assert signed_in_user(client).username == "local"


def test_starttls_with_the_directory_certificate_signs_in(client, settings, ldap_on, directory):
    apply_sso(settings, directory.env(LDAP_START_TLS="1", LDAP_CA_CERT_FILE=directory.ca_file))
    sign_in(client, "lena", "lenapw")
    assert signed_in_user(client).username == "lena"


def test_starttls_with_an_untrusted_certificate_is_refused(
    client, settings, ldap_on, directory, tmp_path
):
    """A directory whose certificate our CA file does not vouch for (a man in the middle)
    gets no password and signs nobody in."""
    import shutil
    import subprocess

    other = tmp_path / "other.crt"
    subprocess.run(
        [
            shutil.which("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", str(tmp_path / "k"),
            "-out", str(other),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    apply_sso(settings, directory.env(LDAP_START_TLS="1", LDAP_CA_CERT_FILE=str(other)))
    answer = sign_in(client, "lena", "lenapw")
    assert answer.status_code == 200
    assert signed_in_user(client) is None


def test_directory_down_refuses_without_an_error(client, settings, ldap_on, directory):
    from .conftest import free_port

    apply_sso(settings, directory.env(LDAP_SERVER_URI=f"ldap://127.0.0.1:{free_port()}"))
    answer = sign_in(client, "lena", "lenapw")
    assert answer.status_code == 200
    assert signed_in_user(client) is None
