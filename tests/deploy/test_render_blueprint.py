"""render.yaml, the one-step demo on Render, checked against the settings contract.

Render is not reachable from here: these tests read the blueprint, fill in what
Render provides (generated secrets, the database URL, RENDER_EXTERNAL_HOSTNAME,
PORT) and run its commands with the project's own Python.
"""

import base64
import http.client
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import yaml
from django.core.management import get_commands
from procrastinate.contrib.django import app
from psycopg import sql

from core.health import HEALTH_PATH
from tests.deploy.conftest import ROOT, free_port, manage
from tests.deploy.test_container_files import SERVE_COMMAND, _dockerfile_instructions

HOST = "referral-demo.onrender.com"  # what Render puts in RENDER_EXTERNAL_HOSTNAME
# What production settings refuse to start without, or need for the demo (docs/operations.md).
REQUIRED = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "SMS_BACKEND", "DEMO_MODE"}


def _blueprint() -> dict:
    return yaml.safe_load((ROOT / "render.yaml").read_text())


def _service(kind: str) -> dict:
    (service,) = [s for s in _blueprint()["services"] if s["type"] == kind]
    return service


def _shell_steps(service: dict) -> list[str]:
    """`sh -c "a && b"` as its steps: ["a", "b"]."""
    argv = shlex.split(service["dockerCommand"])
    assert argv[:2] == ["sh", "-c"] and len(argv) == 3
    return argv[2].split(" && ")


# Generated once per service and variable, as Render does at the blueprint's first sync.
_GENERATED: dict[tuple[str, str], str] = {}


def _generated_secret() -> str:
    # Render's generateValue: "a base64-encoded 256-bit value".
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _environment(service: dict, *, database_url: str) -> dict[str, str]:
    """The service's variables as Render would set them; fails on one it cannot resolve."""
    blueprint = _blueprint()
    groups = {group["name"]: group["envVars"] for group in blueprint.get("envVarGroups", [])}
    databases = {database["name"] for database in blueprint["databases"]}

    def resolve(owner: dict) -> dict[str, str]:
        env: dict[str, str] = {}
        for entry in owner["envVars"]:
            if "fromGroup" in entry:
                env.update({item["key"]: str(item["value"]) for item in groups[entry["fromGroup"]]})
            elif "value" in entry:
                env[entry["key"]] = str(entry["value"])
            elif entry.get("generateValue"):
                key = (owner["name"], entry["key"])
                env[entry["key"]] = _GENERATED.setdefault(key, _generated_secret())
            elif "fromDatabase" in entry:
                assert entry["fromDatabase"]["name"] in databases
                assert entry["fromDatabase"]["property"] == "connectionString"
                env[entry["key"]] = database_url
            elif "fromService" in entry:
                source = entry["fromService"]
                (other,) = [s for s in blueprint["services"] if s["name"] == source["name"]]
                env[entry["key"]] = resolve(other)[source["envVarKey"]]
            else:
                pytest.fail(f"{owner['name']}: {entry['key']} is neither set nor derived")
        return env

    env = resolve(service)
    if service["type"] == "web":
        # Render's runtime variables for a web service.
        env |= {"RENDER": "true", "RENDER_EXTERNAL_HOSTNAME": HOST, "PORT": "10000"}
    return env


def _process_env(blueprint_env: dict[str, str], **overrides: str) -> dict[str, str]:
    """Only the blueprint's variables (no .env, no developer shell), with this venv on PATH."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - gunicorn's default home
        **blueprint_env,
        **overrides,
    }


def test_the_web_service_migrates_then_runs_the_dockerfiles_server():
    web = _service("web")
    dockerfile_cmd = json.loads(_dockerfile_instructions("CMD")[-1])

    migrate, serve = _shell_steps(web)

    assert web["runtime"] == "docker"
    assert (ROOT / web["dockerfilePath"]).resolve() == ROOT / "Dockerfile"
    assert shlex.split(migrate) == ["python", "manage.py", "migrate", "--noinput"]
    assert shlex.split(serve) == ["exec", *dockerfile_cmd]
    assert dockerfile_cmd == SERVE_COMMAND
    assert web["healthCheckPath"] == HEALTH_PATH
    assert web["plan"] == "free"


def test_the_blueprint_costs_nothing_and_its_web_service_runs_the_queue():
    services = _blueprint()["services"]

    # Render's background workers and cron jobs have no free plan: none here.
    assert [(s["type"], s["plan"]) for s in services] == [("web", "free")]
    web_env = _environment(_service("web"), database_url="postgres://x")
    assert web_env["QUEUE_WORKER_IN_WEB"] == "1"
    # What the cron job ran is periodic jobs of that worker's queue now ...
    periodic = {task.task.name for task in app.periodic_registry.periodic_tasks.values()}
    assert {
        "fraud.ips_purge",
        "staff_console.code_counts_rollup",
        "auth_flow.challenges_purge",
        "auth_flow.sessions_clear",
        "rewards.grants_approve_due",
        "events.stalled_jobs_retry",
    } <= periodic
    # ... and the commands stay for manual use.
    assert {
        "refresh_fraud_flags",
        "rollup_code_counts",
        "approve_rewards",
        "purge_challenges",
        "clearsessions",
        "purge_member_ips",
        "queue_worker",
    } <= set(get_commands())


def test_every_service_gets_every_variable_production_settings_require():
    database = _blueprint()["databases"][0]
    assert database["plan"] == "free"
    assert database["ipAllowList"] == []  # reachable only from the account's services

    web_env = _environment(_service("web"), database_url="postgres://x")

    assert web_env.keys() >= REQUIRED
    assert (web_env["DEBUG"], web_env["SMS_BACKEND"], web_env["DEMO_MODE"]) == ("0", "demo", "1")
    assert web_env["TRUSTED_PROXY_COUNT"] == "2"  # Cloudflare, then Render's proxy
    assert len(web_env["SECRET_KEY"]) == 44
    # The public host is Render's to name, at run time (settings.py adds it).
    assert "ALLOWED_HOSTS" not in web_env and "CSRF_TRUSTED_ORIGINS" not in web_env
    regions = {s["region"] for s in (*_blueprint()["services"], database)}
    assert len(regions) == 1  # the private network joins services of one region


def _check_deploy(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result = manage("check", "--deploy", env=_process_env(env))
    return result, set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", result.stderr))


def test_the_blueprints_environment_passes_the_deploy_checks():
    web_env = _environment(_service("web"), database_url="postgres://referral:x@db/referral")

    result, issues = _check_deploy(web_env)

    assert result.returncode == 0, result.stderr
    # Render generates 256 random bits as 44 base64 characters; Django's W009 counts
    # characters (50), not bits, so it is the one warning left, and not a weakness.
    assert issues == {"security.W009"}, result.stderr


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database, as Render creates it, dropped afterwards."""
    test_url = os.environ.get("DATABASE_URL", "")
    if not test_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    parts = urlsplit(test_url)
    name = f"{parts.path.lstrip('/')}_render"
    admin_url = parts._replace(path="/postgres").geturl()

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    drop()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield parts._replace(path=f"/{name}").geturl()
    drop()


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read().decode()
    finally:
        connection.close()


def _queue_workers(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0]


@pytest.mark.postgres
def test_the_web_service_command_migrates_an_empty_database_and_serves_its_host_with_a_worker(
    fresh_database, tmp_path
):
    port = free_port()
    env = _process_env(
        _environment(_service("web"), database_url=fresh_database),
        PORT=str(port),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    # The image collects static files at build time (Dockerfile).
    collected = manage("collectstatic", "--noinput", "-v0", env=env)
    assert collected.returncode == 0, collected.stderr
    log = tmp_path / "web.log"
    argv = shlex.split(_service("web")["dockerCommand"])
    process = subprocess.Popen(  # noqa: S603 - the blueprint's own command
        argv,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                status, _, _ = _get(port, HEALTH_PATH, {})
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        # As Render's proxy forwards a visitor: its host, HTTPS, the client two hops back.
        page_status, headers, page = _get(
            port,
            "/",
            {
                "Host": HOST,
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": "198.51.100.7, 104.22.17.40",
            },
        )
        wrong_host, _, _ = _get(
            port, "/", {"Host": "attacker.example", "X-Forwarded-Proto": "https"}
        )
        # One queue worker beside gunicorn, registered in the queue's table.
        while _queue_workers(fresh_database) != 1:
            assert time.monotonic() < deadline + 30, log.read_text()
            time.sleep(0.2)
        # SIGTERM to gunicorn alone (as Render sends it): it stops its worker too.
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        stopped = _queue_workers(fresh_database)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    assert stopped == 0, log.read_text()  # the worker said goodbye (a clean stop)

    assert status == 200, log.read_text()
    assert page_status == 200, log.read_text()
    assert 'name="phone"' in page
    assert headers.get("Strict-Transport-Security", "").startswith("max-age=")
    assert wrong_host == 400
    assert "Applying profiles.0001" in log.read_text()
