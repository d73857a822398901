"""A burst that holds every pooled connection is not an outage: requests wait, not 503."""

import contextlib
import threading
import time

import pytest
from django.db import connection, connections
from psycopg_pool import PoolTimeout

from profiles.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_request_waits_past_the_pool_timeout_while_the_database_answers(settings):
    pool = connection.pool
    assert pool is not None
    pool.open(wait=True)
    held = []  # a burst holds every connection (this test's own thread has one too)
    with contextlib.suppress(PoolTimeout):
        while True:
            held.append(pool.getconn(timeout=0.3))
    result: dict[str, object] = {}

    def request() -> None:
        started = time.monotonic()
        try:
            result["count"] = User.objects.count()
        except Exception as error:  # noqa: BLE001 - reported below
            result["error"] = error
        finally:
            result["took"] = time.monotonic() - started
            connections.close_all()

    worker = threading.Thread(target=request)
    worker.start()
    # Longer than DB_POOL_TIMEOUT: without the probe the request would fail here.
    time.sleep(settings.DB_POOL_TIMEOUT + 0.5)
    for conn in held:
        pool.putconn(conn)
    worker.join(timeout=10)

    assert "error" not in result, result.get("error")
    assert result["count"] == 0
    assert result["took"] > settings.DB_POOL_TIMEOUT
