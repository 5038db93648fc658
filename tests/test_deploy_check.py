"""`manage.py check --deploy` is clean with the production environment the docs give
(docs/production.env, the one copy docs/operations.md points to), and says clearly what is
wrong when a key is missing or weak."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from tests.support import manage

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = ROOT / "docs" / "production.env"

# What each <placeholder> of docs/production.env stands for: a value of the shape it asks for.
PLACEHOLDERS = {
    "secret key": lambda: secrets.token_urlsafe(50),
    "fernet key": lambda: Fernet.generate_key().decode(),
    "database password": lambda: secrets.token_urlsafe(16),
    "smtp password": lambda: secrets.token_urlsafe(16),
    "metrics token": lambda: secrets.token_urlsafe(32),
}


def production_env() -> dict[str, str]:
    """docs/production.env as a dict, each <placeholder> filled in."""
    env = {}
    for line in PRODUCTION_ENV.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        env[name] = re.sub(r"<([a-z ]+)>", lambda m: PLACEHOLDERS[m[1]](), value)
    return env


def check_deploy(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """`manage.py check --deploy --fail-level WARNING` with `env` and nothing else of ours
    (only PATH, and a scratch VAR_DIR so nothing lands in the checkout)."""
    return manage(
        {"PATH": os.environ["PATH"], "PAGERLINE_VAR_DIR": str(tmp_path), **env},
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )


def test_the_documented_production_settings_pass_check_deploy(tmp_path):
    result = check_deploy(production_env(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout
    # Every key came from the environment: none was made up and kept under VAR_DIR.
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "encryption_key").exists()


def test_the_documented_settings_turn_on_https_everything():
    """What the production block switches on, read back from the settings it produces."""
    env = production_env()
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_PROXY_SSL_HEADER,"
        " s.CSRF_TRUSTED_ORIGINS, s.DEBUG]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '[true, true, true, 31536000, true, ["HTTP_X_FORWARDED_PROTO", "https"], '
        '["https://pagerline.example.com"], false]'
    )


def test_a_missing_secret_key_is_a_deploy_warning(tmp_path):
    env = production_env()
    del env["SECRET_KEY"]
    result = check_deploy(env, tmp_path)
    assert result.returncode != 0
    assert "(pagerline.W001) SECRET_KEY is not set" in result.stderr
    assert "with more than one host sessions" in result.stderr


def test_missing_encryption_keys_are_a_deploy_warning(tmp_path):
    env = production_env()
    del env["PAGERLINE_ENCRYPTION_KEYS"]
    result = check_deploy(env, tmp_path)
    assert result.returncode != 0
    assert "(pagerline.W002) PAGERLINE_ENCRYPTION_KEYS is not set" in result.stderr


def test_a_short_secret_key_is_refused_at_start(tmp_path):
    result = check_deploy({**production_env(), "SECRET_KEY": "x" * 31}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 32 characters" in result.stderr


def test_a_weak_secret_key_is_a_deploy_warning(tmp_path):
    """32-49 characters start (older deployments), but Django's W009 asks for 50."""
    result = check_deploy({**production_env(), "SECRET_KEY": secrets.token_hex(20)}, tmp_path)
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_without_a_trusted_proxy_header_plain_http_is_not_redirected(tmp_path):
    """gunicorn speaks plain HTTP: redirecting without trusting X-Forwarded-Proto would loop,
    so the redirect stays off, and check --deploy says so."""
    env = production_env()
    del env["PAGERLINE_BEHIND_PROXY"]
    result = check_deploy(env, tmp_path)
    assert result.returncode != 0
    assert "security.W008" in result.stderr


@pytest.mark.django_db
def test_probes_and_scrapes_over_plain_http_are_not_redirected(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # its handler reads the middleware settings when it is built
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)
    assert client.get("/metrics").status_code in (200, 401)
    login = client.get("/accounts/login/")
    assert login.status_code == 301
    assert login["Location"] == "https://testserver/accounts/login/"
