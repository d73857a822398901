"""The Dockerfile, docker-compose.yml and .env.example run and name what the tests run.

There is no Docker engine in CI: these tests read the files and run their
commands outside a container.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.deploy.conftest import ROOT, manage, process_env

SERVE_COMMAND = ["gunicorn", "--config", "site_config/gunicorn.conf.py"]


def _shell(
    command: str, *, cwd: Path, env: dict[str, str], timeout: int = 60
) -> subprocess.CompletedProcess[str]:
    """Run a command of the Dockerfile or compose file as their /bin/sh would."""
    return subprocess.run(  # noqa: S603 - the files' own commands
        ["/bin/sh", "-c", command],  # noqa: S607 - as the container's shell runs it
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _dockerfile_instructions(keyword: str) -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        line.split(maxsplit=1)[1] for line in text.splitlines() if line.startswith(f"{keyword} ")
    ]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` with nothing set: the default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_image_and_make_serve_start_the_same_server():
    assert json.loads(_dockerfile_instructions("CMD")[-1]) == SERVE_COMMAND
    makefile = (ROOT / "Makefile").read_text()
    serve_recipe = makefile.split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert "compilemessages" in serve_recipe
    assert "collectstatic --noinput" in serve_recipe
    assert "exec $(BIN)/gunicorn --config site_config/gunicorn.conf.py" in serve_recipe


def test_image_build_collects_static_files_with_its_placeholder_settings(tmp_path):
    (collect,) = [run for run in _dockerfile_instructions("RUN") if "collectstatic" in run]
    # As in the image: the virtualenv first on PATH, no project settings in the environment.
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "STATIC_ROOT": str(tmp_path),
    }

    result = _shell(collect, cwd=ROOT, env=env)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()


def test_image_build_compiles_the_translations(tmp_path):
    (compile_messages,) = [
        run for run in _dockerfile_instructions("RUN") if "compilemessages" in run
    ]
    shutil.copytree(ROOT / "locale", tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    command = compile_messages.replace("/opt/venv/bin/", f"{Path(sys.executable).parent}/")

    result = _shell(command, cwd=tmp_path, env={"PATH": os.environ["PATH"]})

    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "locale").glob("*/LC_MESSAGES/django.mo"))


@pytest.mark.postgres
def test_docker_healthcheck_passes_against_a_production_server_probed_by_ip(
    serve, serve_database_url
):
    (healthcheck,) = _dockerfile_instructions("HEALTHCHECK")
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    # The real production settings: a public host name and HTTPS redirects.
    server = serve(
        DATABASE_URL=serve_database_url,
        ALLOWED_HOSTS="referral.example.com",
        SECURE_SSL_REDIRECT="1",
    )
    env = {**os.environ, "PORT": str(server.port)}
    probe[0] = sys.executable

    result = subprocess.run(probe, env=env, capture_output=True, timeout=10, check=False)  # noqa: S603

    assert result.returncode == 0, result.stderr


def test_compose_serves_only_after_a_healthy_database_and_finished_migrations():
    services = _compose()["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["web"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert "command" not in services["web"]  # the image's CMD: make serve's command
    assert services["web"]["ports"] == ["8000:8000"]
    assert {"path": ".env", "required": False} in services["web"]["env_file"]


def test_compose_demo_settings_pass_the_deploy_checks():
    environment = {
        name: _interpolate(str(value))
        for name, value in _compose()["services"]["web"]["environment"].items()
    }
    assert environment["DEBUG"] == "0"
    assert environment["SMS_BACKEND"] == "demo"

    result = manage("check", "--deploy", env=process_env(**environment))

    # Plain HTTP on localhost is the demo's one deliberate warning (security.W008).
    assert result.returncode == 0, result.stderr
    assert "auth_flow.E001" not in result.stderr


# How the code reads a variable: env.str("NAME", ...), required_in_production("NAME", ...),
# os.environ.get("NAME") / os.environ["NAME"] / os.getenv("NAME"); compose: ${NAME...}.
_READS = [
    r"env\.\w+\((?:\s|#[^\n]*)*\"([A-Z][A-Z0-9_]+)\"",
    r"required_in_production\((?:\s|#[^\n]*)*\"([A-Z][A-Z0-9_]+)\"",
    r"environ(?:\.get)?[(\[]\s*[\"']([A-Z][A-Z0-9_]+)[\"']",
    r"getenv\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']",
]
# Not the application's: the test and benchmark harnesses read their own.
_NOT_THE_APP = {".venv", "node_modules", ".git", "tests", "bench"}


def _variables_read() -> set[str]:
    read: set[str] = set()
    for source in ROOT.rglob("*.py"):
        if _NOT_THE_APP.isdisjoint(source.relative_to(ROOT).parts):
            text = source.read_text()
            for pattern in _READS:
                read |= set(re.findall(pattern, text))
    compose = (ROOT / "docker-compose.yml").read_text()
    return read | set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", compose))


def test_env_example_lists_every_variable_the_code_reads_and_no_other():
    read = _variables_read()
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^# ([A-Z][A-Z0-9_]+)=", example, re.M))

    assert {"SECRET_KEY", "HEALTH_DB_TIMEOUT", "OUTAGE_RETRY_AFTER", "PORT"} <= read
    assert read - documented == set(), "read but not in .env.example"
    assert documented - read == set(), "in .env.example but read nowhere"
    # The settings table in the docs names no variable the code does not read.
    table = (ROOT / "docs" / "operations.md").read_text()
    in_docs = {
        name
        for row in re.findall(r"^\| (`.*?) \|", table, re.M)
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)
    }
    assert in_docs - read == set(), "in docs/operations.md but read nowhere"


# --- the queue worker in compose (the daily housekeeping is its periodic jobs) ---


def test_compose_runs_a_queue_worker_after_migrations():
    compose = _compose()["services"]
    worker = compose["worker"]

    assert "maintenance" not in compose  # its daily loop is periodic jobs of the queue now
    assert worker["command"] == ["python", "manage.py", "queue_worker"]
    assert worker["init"] is True  # SIGTERM reaches the worker: `docker compose stop` is clean
    assert worker["depends_on"] == compose["web"]["depends_on"]
    assert worker["restart"] == "unless-stopped"
    assert "ports" not in worker


@pytest.mark.postgres
def test_the_compose_worker_runs_housekeeping_jobs_and_stops_cleanly(serve_database_url):
    """A housekeeping job queued in the database is run by compose's worker command."""
    from procrastinate import SyncPsycopgConnector
    from procrastinate.contrib.django import app

    from auth_flow.tasks import sessions_clear

    with psycopg.connect(serve_database_url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date)"
            " VALUES ('expired0expired0expired0expired0', 'e30', now() - interval '1 day')"
        )
    connector = SyncPsycopgConnector(conninfo=serve_database_url)
    with app.replace_connector(connector):
        connector.open()
        try:
            sessions_clear.defer(timestamp=0)
        finally:
            connector.close()
    env = process_env(
        DATABASE_URL=serve_database_url,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    worker = subprocess.Popen(  # noqa: S603 - the compose file's own command
        _compose()["services"]["worker"]["command"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with psycopg.connect(serve_database_url) as connection:
                (left,) = connection.execute("SELECT count(*) FROM django_session").fetchone()
            if left == 0:
                break
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()

    assert worker.returncode == 0, output
