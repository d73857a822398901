"""Settings read from the environment, in a fresh process as a platform starts one."""

import json

from tests.deploy.conftest import manage, process_env

SHOW = (
    "import json; from django.conf import settings; "
    "print(json.dumps([settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS]))"
)


def _hosts_and_origins(**env: str) -> tuple[list[str], list[str]]:
    result = manage("shell", "-c", SHOW, env=process_env(**env))
    assert result.returncode == 0, result.stderr
    hosts, origins = json.loads(result.stdout.strip().splitlines()[-1])
    return hosts, origins


def test_renders_host_name_is_allowed_and_trusted_in_place_of_allowed_hosts():
    hosts, origins = _hosts_and_origins(
        ALLOWED_HOSTS="", CSRF_TRUSTED_ORIGINS="", RENDER_EXTERNAL_HOSTNAME="demo.onrender.com"
    )

    assert hosts == ["demo.onrender.com"]
    assert origins == ["https://demo.onrender.com"]


def test_renders_host_name_adds_to_configured_hosts_and_origins():
    hosts, origins = _hosts_and_origins(
        ALLOWED_HOSTS="referral.example.com",
        CSRF_TRUSTED_ORIGINS="https://referral.example.com",
        RENDER_EXTERNAL_HOSTNAME="demo.onrender.com",
    )

    assert hosts == ["referral.example.com", "demo.onrender.com"]
    assert origins == ["https://referral.example.com", "https://demo.onrender.com"]


def test_without_render_nothing_is_added():
    hosts, origins = _hosts_and_origins(
        ALLOWED_HOSTS="referral.example.com",
        CSRF_TRUSTED_ORIGINS="https://referral.example.com",
        RENDER_EXTERNAL_HOSTNAME="",
    )

    assert hosts == ["referral.example.com"]
    assert origins == ["https://referral.example.com"]
