"""Production settings, as `manage.py check` sees them in a fresh process."""

import pytest

from tests.deploy.conftest import manage, process_env


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_start_up_stops_naming_a_missing_production_variable(missing):
    # Empty rather than deleted: a developer's .env would fill an unset variable.
    env = process_env(**{missing: ""})

    result = manage("check", env=env)

    assert result.returncode != 0
    assert f"{missing} must be set in the environment when DEBUG is off" in result.stderr


def test_check_deploy_is_clean_with_the_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=process_env())

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("backend", ["demo", "console,demo", "auth_flow.sms.simulated.DemoBackend"])
def test_start_up_stops_with_the_demo_sms_backend_without_demo_mode(backend):
    env = process_env(SMS_BACKEND=backend, DEMO_MODE="0")

    result = manage("check", "--deploy", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"SMS_BACKEND={backend} shows sign-in codes" in result.stderr
    assert "DEMO_MODE=1" in result.stderr


@pytest.mark.parametrize(
    ("backend", "missing"),
    [("smsru", "SMSRU_API_ID"), ("twilio", "TWILIO_AUTH_TOKEN"), ("nosuch", "nosuch")],
)
def test_start_up_stops_naming_what_a_real_sms_backend_lacks(backend, missing):
    env = process_env(SMS_BACKEND=backend, SMSRU_API_ID="", TWILIO_AUTH_TOKEN="")

    result = manage("check", env=env)

    assert result.returncode != 0
    assert missing in result.stderr


def test_check_deploy_allows_the_demo_sms_backend_in_demo_mode():
    env = process_env(SMS_BACKEND="demo", DEMO_MODE="1")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stderr
