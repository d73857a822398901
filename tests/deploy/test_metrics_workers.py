"""/metrics under `make serve` with two gunicorn workers: one scrape, every worker's counts,
and the figures read at scrape time (queue, grants) once, not once per worker."""

import http.client
import re
import shutil
from pathlib import Path

import psycopg
import pytest
from prometheus_client import CollectorRegistry, multiprocess

from tests.scrape import samples, value

TOKEN = "deploy-tests-metrics-token-0123456789"
SERIES = re.compile(
    r'^referral_http_requests_total\{method="GET",route="auth_flow:sign_in",status="200"\} (\S+)$',
    re.M,
)


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, str]:
    # A connection per request, as separate clients: the kernel hands each to a worker.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def _count_of_worker(directory: Path, pid: str, scratch: Path) -> float:
    """The sign-in page's count as one worker's own files hold it."""
    scratch.mkdir()
    for path in directory.glob(f"*_{pid}.db"):
        shutil.copy(path, scratch / path.name)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(scratch))
    return (
        registry.get_sample_value(
            "referral_http_requests_total",
            {"method": "GET", "route": "auth_flow:sign_in", "status": "200"},
        )
        or 0.0
    )


@pytest.mark.postgres
def test_one_scrape_shows_the_requests_of_both_workers(serve, serve_database_url, tmp_path):
    directory = tmp_path / "metrics"
    server = serve(
        DATABASE_URL=serve_database_url,
        WEB_CONCURRENCY="2",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        SECURE_SSL_REDIRECT="0",
    )
    sent = 0
    pids: dict[str, float] = {}
    # Until both workers have answered some (which one accepts is the kernel's choice).
    while sent < 1000 and (len(pids) < 2 or min(pids.values()) == 0):
        for _ in range(40):
            assert _get(server.port, "/")[0] == 200
            sent += 1
        found = {
            m[1] for m in re.finditer(r"counter_(\d+)\.db", " ".join(map(str, directory.iterdir())))
        }
        pids = {pid: _count_of_worker(directory, pid, tmp_path / f"w{pid}-{sent}") for pid in found}

    # Three jobs waiting (no worker runs here): a scrape-time figure, read by whichever
    # worker answers, must say 3, not 3 for each worker.
    with psycopg.connect(serve_database_url, autocommit=True) as db:
        for n in range(3):
            db.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args) "
                "VALUES ('events', 'events.dispatch', %s)",
                [f'{{"event_id": "deploy-{n}"}}'],
            )
    try:
        status, headers, text = _get(server.port, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    finally:
        with psycopg.connect(serve_database_url, autocommit=True) as db:
            db.execute("DELETE FROM procrastinate_jobs WHERE args->>'event_id' LIKE 'deploy-%'")

    assert status == 200
    assert len(pids) == 2 and all(pids.values()), pids
    scraped = float(SERIES.search(text)[1])
    assert scraped == sum(pids.values()) == sent
    figures = samples(text)  # fails on a series given twice
    assert value(figures, "referral_queue_jobs", queue="events", status="todo") == 3
    assert value(figures, "referral_queue_oldest_job_age_seconds", queue="events") >= 0
    assert value(figures, "referral_reward_grants", state="pending") == 0
    # Anyone else, by address over plain HTTP as a scraper comes: 401, told to bring a token.
    status, headers, text = _get(server.port, "/metrics")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert "referral_" not in text
