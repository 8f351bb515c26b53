"""Sign-in throttling and lockout (django-axes on the database, itsm.accounts.lockout): per
account and per client address, on the sign-in page, the API token endpoint and the current
password of /me/; the client address only from a configured proxy; the same 429 answer
whether the account exists or not; concurrent guesses cannot all be tried."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from itsm.accounts import lockout
from tests.conftest import PASSWORD

LIMIT = 5
TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.TRUSTED_PROXY_COUNT = 0
    settings.TRUSTED_PROXIES = []


def sign_in(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def main_text(response) -> str:
    """The page's message, without what differs per answer (CSP nonces, tokens)."""
    html = response.content.decode()
    return re.search(r"<main.*?</main>", html, re.S).group(0)


@pytest.mark.django_db
class TestSignInPage:
    def test_locked_out_after_the_limit_even_with_the_right_password(self, alice):
        client = Client()
        for _ in range(LIMIT - 1):
            response = sign_in(client, "alice", "wrong")
            assert response.status_code == 200 and not is_signed_in(client)
        # The failure that reaches the limit is answered with the lockout.
        assert sign_in(client, "alice", "wrong").status_code == 429
        refused = sign_in(client, "alice", PASSWORD)
        assert refused.status_code == 429
        assert not is_signed_in(client)
        assert "Sign-in paused" in refused.content.decode()
        assert refused["Retry-After"] == str(15 * 60)
        # From another address the account is still locked (per account).
        other = Client(REMOTE_ADDR="10.9.9.9")
        assert sign_in(other, "alice", PASSWORD).status_code == 429
        assert not is_signed_in(other)

    def test_the_answer_is_the_same_for_an_account_that_does_not_exist(self, alice):
        answers = []
        for username, address in (("alice", "10.0.0.1"), ("nobody-here", "10.0.0.2")):
            client = Client(REMOTE_ADDR=address)
            for _ in range(LIMIT):
                sign_in(client, username, "wrong")
            answers.append(sign_in(client, username, "wrong"))
        assert [a.status_code for a in answers] == [429, 429]
        assert main_text(answers[0]) == main_text(answers[1])

    def test_the_letter_case_of_the_account_name_gives_no_more_guesses(self, alice):
        for number, name in enumerate(("Alice", "ALICE", "aLice", "alicE", " alice")):
            sign_in(Client(REMOTE_ADDR=f"10.4.0.{number}"), name, "wrong")
        assert sign_in(Client(REMOTE_ADDR="10.4.1.1"), "alice", PASSWORD).status_code == 429

    def test_one_address_guessing_many_accounts_is_locked_out(self, alice, bob):
        client = Client(REMOTE_ADDR="10.1.1.1")
        for number in range(LIMIT):
            sign_in(client, f"guess{number}", "wrong")
        assert sign_in(client, "bob", PASSWORD).status_code == 429
        assert not is_signed_in(client)
        elsewhere = Client(REMOTE_ADDR="10.1.1.2")
        assert sign_in(elsewhere, "bob", PASSWORD).status_code == 302
        assert is_signed_in(elsewhere)

    def test_a_forged_forwarded_for_changes_nothing_without_a_configured_proxy(self, alice):
        client = Client(REMOTE_ADDR="10.2.2.2")
        for number in range(LIMIT):
            sign_in(client, f"guess{number}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
        refused = sign_in(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
        assert refused.status_code == 429 and not is_signed_in(client)
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.2.2.2"}

    def test_behind_a_trusted_proxy_the_client_is_the_hop_it_appended(self, settings, alice):
        settings.TRUSTED_PROXY_COUNT = 1
        proxy = Client(REMOTE_ADDR="10.0.0.10")
        for number in range(LIMIT):
            # The client wrote a different forged entry each time; the proxy appended the real one.
            sign_in(proxy, f"g{number}", "wrong", HTTP_X_FORWARDED_FOR=f"1.1.1.{number}, 192.0.2.5")
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.5"}
        locked = sign_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.5")
        assert locked.status_code == 429
        other_client = sign_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.6")
        assert other_client.status_code == 302

    def test_a_success_resets_the_counts(self, alice):
        client = Client()
        for _ in range(LIMIT - 1):
            sign_in(client, "alice", "wrong")
        assert sign_in(client, "alice", PASSWORD).status_code == 302
        client.post("/logout/")
        for _ in range(LIMIT - 1):
            assert sign_in(client, "alice", "wrong").status_code == 200
        assert sign_in(client, "alice", PASSWORD).status_code == 302

    def test_after_the_cool_off_the_right_password_signs_in(self, alice):
        client = Client()
        for _ in range(LIMIT):
            sign_in(client, "alice", "wrong")
        assert sign_in(client, "alice", PASSWORD).status_code == 429
        AccessAttempt.objects.update(
            attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
        )
        assert sign_in(client, "alice", PASSWORD).status_code == 302
        assert is_signed_in(client)

    def test_the_admins_password_form_is_the_sign_in_page(self, admin_user):
        client = Client()
        response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")
        assert not is_signed_in(client)
        page = client.get("/admin/login/?next=/admin/accounts/user/")
        assert page["Location"] == "/login/?next=%2Fadmin%2Faccounts%2Fuser%2F"


@pytest.mark.django_db
def test_attempts_without_an_account_name_are_counted_per_address_only(rf):
    """A single sign-on callback has no account name: its failures lock its address, not
    every such sign-in in the world."""
    for number in range(LIMIT + 1):
        request = rf.post("/sso/oidc/callback/", REMOTE_ADDR=f"10.5.0.{number}")
        assert authenticate(request, nonce="made-up") is None
    fresh = rf.post("/sso/oidc/callback/", REMOTE_ADDR="10.5.1.1")
    assert AxesProxyHandler.is_allowed(fresh, {})
    lockout.release(fresh)
    one = rf.post("/sso/oidc/callback/", REMOTE_ADDR="10.5.9.9")
    for _ in range(LIMIT):
        authenticate(one, nonce="made-up")
    again = rf.post("/sso/oidc/callback/", REMOTE_ADDR="10.5.9.9")
    assert not AxesProxyHandler.is_allowed(again, {})


class TestClientAddress:
    factory = RequestFactory()

    def address(self, settings, xff=None, remote="10.0.0.1", count=0, proxies=()):
        settings.TRUSTED_PROXY_COUNT = count
        settings.TRUSTED_PROXIES = list(proxies)
        extra = {"REMOTE_ADDR": remote}
        if xff is not None:
            extra["HTTP_X_FORWARDED_FOR"] = xff
        return lockout.client_address(self.factory.get("/", **extra))

    def test_remote_addr_by_default_whatever_the_header_says(self, settings):
        assert self.address(settings, "203.0.113.9") == "10.0.0.1"

    def test_one_proxy_takes_the_entry_it_appended(self, settings):
        assert self.address(settings, "203.0.113.9", count=1) == "203.0.113.9"
        assert self.address(settings, "6.6.6.6, 203.0.113.9", count=1) == "203.0.113.9"
        assert self.address(settings, None, count=1) == "10.0.0.1"

    def test_two_proxies(self, settings):
        assert self.address(settings, "6.6.6.6, 203.0.113.9, 10.0.0.2", count=2) == "203.0.113.9"

    def test_a_listed_proxy_must_be_the_one_that_connected(self, settings):
        listed = {"count": 1, "proxies": ["10.0.0.0/24"]}
        assert self.address(settings, "203.0.113.9", **listed) == "203.0.113.9"
        assert self.address(settings, "203.0.113.9", remote="192.0.2.1", **listed) == "192.0.2.1"

    def test_garbage_in_the_header_is_the_proxys_address(self, settings):
        assert self.address(settings, "<script>", count=1) == "10.0.0.1"


@pytest.mark.django_db
class TestTokenEndpoint:
    def post(self, username, password, **extra):
        self.made = getattr(self, "made", 0) + 1
        return APIClient().post(
            TOKEN,
            {"username": username, "password": password, "name": f"test {self.made}"},
            format="json",
            **extra,
        )

    def test_locked_out_with_a_json_429_and_no_token(self, alice):
        for _ in range(LIMIT - 1):
            assert self.post("alice", "wrong").status_code == 400
        assert self.post("alice", "wrong").status_code == 429
        refused = self.post("alice", PASSWORD)
        assert refused.status_code == 429
        assert "token" not in refused.json()
        assert "Too many failed sign-in attempts" in refused.json()["detail"]
        ghost = [self.post("ghost", "wrong", REMOTE_ADDR="10.3.3.3") for _ in range(LIMIT + 1)]
        assert ghost[-1].status_code == 429
        assert ghost[-1].json() == refused.json()

    def test_forging_forwarded_for_gives_no_more_guesses(self, alice):
        answers = [
            self.post("alice", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
            for n in range(LIMIT + 3)
        ]
        assert answers[: LIMIT - 1] == [400] * (LIMIT - 1)
        assert answers[LIMIT - 1 :] == [429] * 4

    def test_a_right_password_does_not_count_as_a_failure(self, alice):
        for _ in range(LIMIT + 2):
            assert self.post("alice", PASSWORD).status_code == 200
        assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()


@pytest.mark.django_db
class TestCurrentPasswordOnPreferences:
    FORM = {"first_name": "Alice", "last_name": "", "phone": "", "time_zone": "UTC"}

    def test_wrong_current_passwords_lock_out_the_right_one_too(self, client, alice):
        client.force_login(alice)
        data = {**self.FORM, "email": "new@example.org"}
        for _ in range(LIMIT):
            response = client.post("/me/", {**data, "current_password": "wrong"})
            assert response.status_code in (400, 429)
        assert response.status_code == 429
        refused = client.post("/me/", {**data, "current_password": PASSWORD})
        assert refused.status_code == 429
        alice.refresh_from_db()
        assert alice.email == "alice@example.com"


def post_token(base_url, password) -> int:
    """One token request over a real connection; its status."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        body = json.dumps({"username": "alice", "password": password})
        connection.request("POST", TOKEN, body, {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_guesses_are_not_all_tried(live_server, alice):
    """60 wrong passwords at once against a live server: at most the limit are tried (the
    last of them answered with the lockout), the rest are refused (429), and the account is
    locked afterwards. (Axes alone checks before and counts after the password: all 60
    would be tried.)"""
    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = list(pool.map(lambda n: post_token(live_server.url, f"wrong{n}"), range(60)))
    assert set(answers) <= {400, 429}, answers
    assert answers.count(400) <= LIMIT - 1, answers
    assert answers.count(429) >= 60 - LIMIT + 1
    assert post_token(live_server.url, PASSWORD) == 429  # the right password too, while locked


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db, settings, tmp_path):
    """The platform under gunicorn with three worker processes, on the test database."""
    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        pytest.skip("several processes on one database: PostgreSQL")
    port = free_port()
    url = (
        f"postgres://{database['USER']}:{database.get('PASSWORD') or ''}@"
        f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ITSM_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "test-only-" + "x" * 40,
        "SIGN_IN_FAILURE_LIMIT": str(LIMIT),
        "DEBUG": "1",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "itsm.wsgi",
            "--workers",
            "3",
            "--threads",
            "8",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("gunicorn did not start")
            time.sleep(0.2)
    yield base_url
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_the_count_is_shared_by_gunicorn_workers(gunicorn, alice):
    """Three worker processes answering 60 concurrent wrong guesses: still at most the
    limit are tried (a count per process would allow the limit three times over)."""
    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = list(pool.map(lambda n: post_token(gunicorn, f"wrong{n}"), range(60)))
    assert set(answers) <= {400, 429}, answers
    assert answers.count(400) <= LIMIT - 1, answers
    assert post_token(gunicorn, PASSWORD) == 429
