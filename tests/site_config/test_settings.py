"""Settings read from the environment, in a fresh process as a platform starts one."""

import json

import pytest

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


DATABASE_SETTINGS = ("DB_PGBOUNCER", "DB_PREPARED_STATEMENTS", "DB_PREPARE_THRESHOLD")


def _database_env(url: str = BOUNCER_URL, **env: str) -> dict[str, str]:
    """A process's environment with only these database settings (none inherited)."""
    environment = process_env(DATABASE_URL=url, **env)
    for key in DATABASE_SETTINGS:
        if key not in env:
            environment.pop(key, None)
    return environment


def test_behind_pgbouncer_nothing_outlives_a_transaction():
    result = manage("shell", "-c", PGBOUNCER_SHOW, env=_database_env(DB_PGBOUNCER="1"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [True, True]
    direct = manage("shell", "-c", PGBOUNCER_SHOW, env=_database_env())
    assert json.loads(direct.stdout.strip().splitlines()[-1])[0] is False


BINDING_SHOW = (
    "import json; from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; "
    "print(json.dumps([o.get('server_side_binding'), o.get('prepare_threshold', 'unset'), "
    "o.get('options', '')]))"
)


def _binding(url: str = BOUNCER_URL, **env: str) -> list:
    """[server_side_binding, prepare_threshold, libpq options] as a process with these
    settings has them."""
    result = manage("shell", "-c", BINDING_SHOW, env=_database_env(url, **env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_straight_to_postgresql_statements_are_bound_server_side_and_prepared():
    # PostgreSQL's own plan_cache_mode (auto): no session option of ours.
    assert _binding() == [True, 5, ""]
    assert _binding(DB_PREPARE_THRESHOLD="2") == [True, 2, ""]
    # Options of the URL's own are kept.
    assert _binding(BOUNCER_URL + "?options=-c%20work_mem%3D8MB")[2] == "-c work_mem=8MB"


def test_a_plan_refresh_of_zero_seconds_is_refused_at_start_up():
    result = manage("check", env=_database_env(DB_PLAN_REFRESH_SECONDS="0"))
    assert result.returncode != 0
    assert "DB_PLAN_REFRESH_SECONDS must be more than 0" in result.stderr


def test_behind_pgbouncer_statements_are_bound_client_side_and_never_prepared():
    assert _binding(DB_PGBOUNCER="1") == [None, None, ""]


def test_prepared_statements_switched_off_leave_djangos_defaults():
    assert _binding(DB_PREPARED_STATEMENTS="0") == [None, "unset", ""]


def test_server_side_binding_written_on_the_database_url_is_taken_at_its_word():
    # The URL's query gives the string "true", and Django binds server-side only for True.
    assert _binding(BOUNCER_URL + "?server_side_binding=true", DB_PREPARED_STATEMENTS="0") == [
        True,
        "unset",
        "",
    ]


def test_behind_pgbouncer_prepared_statements_asked_for_are_refused_at_start_up():
    result = manage("check", env=_database_env(DB_PGBOUNCER="1", DB_PREPARED_STATEMENTS="1"))
    assert result.returncode != 0
    assert "DB_PGBOUNCER=1: DB_PREPARED_STATEMENTS" in result.stderr


def test_a_prepare_threshold_below_one_is_refused_at_start_up():
    result = manage("check", env=_database_env(DB_PREPARE_THRESHOLD="0"))
    assert result.returncode != 0
    assert "DB_PREPARE_THRESHOLD must be at least 1" in result.stderr


def test_behind_pgbouncer_server_side_binding_is_refused_at_start_up():
    result = manage(
        "check",
        env=_database_env(BOUNCER_URL + "?server_side_binding=true", DB_PGBOUNCER="1"),
    )
    assert result.returncode != 0
    assert "DB_PGBOUNCER=1: server_side_binding" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("QUEUE_RELAY_BATCH", "0"), ("QUEUE_RELAY_BATCH", "-1"), ("QUEUE_RELAY_SECONDS", "0")],
)
def test_a_relay_that_could_queue_nothing_or_spin_is_refused_at_start_up(name, value):
    # A batch of 0 claims no write ever (every event committed, none dispatched) and,
    # being "full", loops at once again; a wait of 0 asks the database nonstop.
    result = manage("check", env=process_env(**{name: value}))
    assert result.returncode != 0
    assert f"{name} must be more than 0" in result.stderr
