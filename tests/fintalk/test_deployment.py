"""Production settings: safe defaults, a clean `check --deploy`, the admin's static files."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "fintalk.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_server_refuses_to_start_without_a_secret_key_outside_debug():
    result = manage("check")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="k" * 20 + os.urandom(24).hex(),
        DJANGO_HTTPS="true",
        DJANGO_BEHIND_TLS_PROXY="true",
        DJANGO_ALLOWED_HOSTS="bank.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_the_admin_static_files_are_served_by_the_server(live_server_url):
    response = httpx.get(f"{live_server_url}/static/admin/css/base.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


@pytest.mark.django_db
def test_api_responses_carry_security_headers():
    response = Client().get("/v1/models")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_cors_allows_only_the_configured_front_end(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.bank.example"]
    preflight = {
        "HTTP_ORIGIN": "https://app.bank.example",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization, content-type",
    }

    allowed = Client().options("/v1/chat/completions", **preflight)
    other = Client().options("/v1/chat/completions", **{**preflight, "HTTP_ORIGIN": "https://evil.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.bank.example"
    assert "authorization" in allowed.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in other.headers
