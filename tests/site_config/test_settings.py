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


PGBOUNCER_SHOW = (
    "import json; from django.conf import settings; d = settings.DATABASES['default']; "
    "print(json.dumps([d.get('DISABLE_SERVER_SIDE_CURSORS', False), "
    "'prepare_threshold' in d['OPTIONS'] and d['OPTIONS']['prepare_threshold'] is None]))"
)
BOUNCER_URL = "postgres://app@127.0.0.1:6432/referral"


def test_behind_pgbouncer_nothing_outlives_a_transaction():
    result = manage(
        "shell", "-c", PGBOUNCER_SHOW, env=process_env(DATABASE_URL=BOUNCER_URL, DB_PGBOUNCER="1")
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [True, True]
    direct = manage("shell", "-c", PGBOUNCER_SHOW, env=process_env(DATABASE_URL=BOUNCER_URL))
    assert json.loads(direct.stdout.strip().splitlines()[-1])[0] is False


def test_behind_pgbouncer_server_side_binding_is_refused_at_start_up():
    result = manage(
        "check",
        env=process_env(DATABASE_URL=BOUNCER_URL + "?server_side_binding=true", DB_PGBOUNCER="1"),
    )
    assert result.returncode != 0
    assert "DB_PGBOUNCER=1: server_side_binding" in result.stderr
