import socket
import time
from unittest import mock

import pytest
from django.db import connection, connections
from psycopg_pool import ConnectionPool


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unreachable_pool():
    """A real psycopg pool whose server refuses every connection, like a stopped PostgreSQL."""
    pool = ConnectionPool(
        f"host=127.0.0.1 port={_free_port()} dbname=nowhere connect_timeout=2",
        min_size=1,
        timeout=10,
        open=False,
    )
    yield pool
    pool.close()


@pytest.mark.django_db
def test_healthz_answers_503_within_a_second_when_the_database_is_unreachable(
    client, unreachable_pool
):
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")
    with mock.patch.object(type(connections["default"]), "pool", unreachable_pool):
        started = time.monotonic()
        response = client.get("/healthz")
        took = time.monotonic() - started

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    assert response["Retry-After"] == "5"
    assert took < 1.0  # not the pool's timeout of 10 s


@pytest.mark.django_db
def test_healthz_answers_probes_by_ip_over_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["referral.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    probe = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    page = client.get("/", HTTP_HOST="10.0.0.7:8000")

    assert probe.status_code == 200
    assert page.status_code == 400  # everything else still checks the host


@pytest.mark.django_db
def test_healthz_answers_head_and_refuses_writes(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_healthz_stays_200_while_every_pooled_connection_is_busy(client):
    """A burst holds the whole pool: the database is fine, the instance must stay in rotation."""
    params = connections["default"].get_connection_params()
    params.pop("pool", None)
    busy_pool = ConnectionPool(kwargs=params, min_size=1, max_size=1, timeout=10, open=False)
    busy_pool.open(wait=True)
    try:
        with (
            busy_pool.connection(),  # the only connection, taken as a burst would
            mock.patch.object(type(connections["default"]), "pool", busy_pool),
        ):
            started = time.monotonic()
            response = client.get("/healthz")
            took = time.monotonic() - started
    finally:
        busy_pool.close()

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert took < 1.0
