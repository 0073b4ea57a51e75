"""Production settings (issue 10): `check --deploy` prints no warning with DEBUG off, and a
reverse proxy's HTTPS header is honoured only when configured."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def _run(*args, **env):
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "SESSION_", "CSRF_"))},
        "DEBUG": "false",
        "SECRET_KEY": "prueba-" + "k8Zq2xV" * 8,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


def _setting(code: str, **env) -> str:
    result = _run("-c", f"import django; django.setup(); from django.conf import settings; print({code})", **{
        "DJANGO_SETTINGS_MODULE": "erp.settings", **env})  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_check_deploy_prints_no_warning():
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_are_https_only():
    values = _setting(
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS > 0, getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)"
    )
    assert values == "True True True True None"


def test_a_proxy_header_is_honoured_when_configured():
    assert _setting(
        "settings.SECURE_PROXY_SSL_HEADER", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto,https"
    ) == ("('HTTP_X_FORWARDED_PROTO', 'https')")
    assert _setting("settings.SECURE_SSL_REDIRECT", SECURE_SSL_REDIRECT="false") == "False"
