"""A production process with an unsafe sign-in set-up does not serve: the demo SMS
backend without DEMO_MODE, or an OTP_* limit below 1.

gunicorn runs no system checks: the refusal is raised while the app loads
(AppConfig.ready, auth_flow/checks.py), so the workers die at boot and gunicorn
exits. (In demo mode the same servers start: tests/deploy/test_serve.py.)
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, Servers, free_port, process_env

GUNICORN = Path(sys.executable).parent / "gunicorn"


def _run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments
        command,
        cwd=ROOT,
        env=process_env(PORT=str(free_port()), WEB_CONCURRENCY="1", **env),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_gunicorn_refuses_to_serve_the_demo_backend_without_demo_mode():
    result = _run(
        [str(GUNICORN), "--config", "site_config/gunicorn.conf.py"],
        SMS_BACKEND="console,demo",
        DEMO_MODE="0",
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ImproperlyConfigured" in output
    assert "SMS_BACKEND=console,demo shows sign-in codes" in output
    assert "DEMO_MODE" in output


def test_make_serve_refuses_to_start_with_the_demo_backend(tmp_path):
    servers = Servers(tmp_path)  # for its `make`; no server is expected to answer
    result = _run(
        [servers.make, "-s", "-o", ".venv/.installed", "serve"],
        SMS_BACKEND="demo",
        DEMO_MODE="0",
        STATIC_ROOT=str(tmp_path / "static"),
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "SMS_BACKEND=demo shows sign-in codes" in output


def test_gunicorn_refuses_to_serve_with_a_limit_below_one():
    result = _run([str(GUNICORN), "--config", "site_config/gunicorn.conf.py"], OTP_MAX_ATTEMPTS="0")

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ImproperlyConfigured" in output
    assert "OTP_MAX_ATTEMPTS must be a positive whole number (it is 0)" in output


@pytest.mark.parametrize(("limit", "value"), [("OTP_TTL", "0"), ("OTP_PHONE_HOURLY", "-1")])
def test_the_wsgi_application_does_not_load_with_a_limit_below_one(limit, value):
    # What any WSGI server does first (uwsgi, mod_wsgi, gunicorn's workers).
    result = _run([sys.executable, "-c", "import site_config.wsgi"], **{limit: value})

    assert result.returncode != 0, result.stdout
    assert f"{limit} must be a positive whole number (it is {value})" in result.stderr
