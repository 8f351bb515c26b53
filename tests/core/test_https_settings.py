"""With ``HTTPS=1`` (production), Django's deployment checks find no insecure cookie, no
missing HSTS and no missing HTTPS redirect; without it (the quick start over plain HTTP)
the cookies stay usable over HTTP."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
INSECURE = ("security.W004", "security.W008", "security.W012", "security.W016")


def deploy_check(**env) -> str:
    environment = {
        **os.environ,
        "SECRET_KEY": "x" * 60 + "-not-a-real-key-but-long-and-varied-0123456789",
        "DEBUG": "0",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout + result.stderr


def test_production_over_https_passes_the_cookie_and_transport_checks():
    output = deploy_check(HTTPS="1")
    assert not [code for code in INSECURE if code in output], output


def test_the_quick_start_over_http_keeps_its_cookies_usable():
    output = deploy_check(HTTPS="0")
    assert "security.W012" in output  # session cookie not Secure: served over plain HTTP
