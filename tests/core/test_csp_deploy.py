"""With the production settings (HTTPS=1, DEBUG off, a long random SECRET_KEY, a real host
name: what docker-compose.yml and the README's production section use), Django's deployment
checks report nothing, not even a warning (``make test`` runs the same check)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def deploy_check(**env) -> subprocess.CompletedProcess:
    # The browser tests' session sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright's event
    # loop (tests/browser/conftest.py); a production environment has no such thing.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {
        **inherited,
        "HTTPS": "1",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "itsm.example.org",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_every_deployment_check():
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_https_the_check_fails():
    """The check has teeth: over plain HTTP the cookies are not Secure and there is no HSTS."""
    result = deploy_check(HTTPS="0")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "security.W004" in output and "security.W012" in output
