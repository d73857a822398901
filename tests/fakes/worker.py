"""Real queue workers for tests: `manage.py queue_worker` processes on the test database.

Use the `queue_workers` fixture (registered in tests/conftest.py) in a test that
needs jobs run for real. It implies `transactional_db`: the workers are other
processes, so they see only committed rows (no test transaction to hide behind),
and the tables are emptied after the test.

    def test_something(queue_workers):
        queue_workers.start()                     # one worker, the real command
        ...                                       # commit something that queues jobs
        wait_for(lambda: Thing.objects.filter(done=True).exists())

`start(imports=["tests.fakes.queue_handlers"], env={...})` imports test modules
in the worker first and adds environment variables; `worker.kill()` is kill -9,
`worker.stop()` a SIGTERM; the workers left are stopped after the test.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database (pytest-django's), as a URL for another process."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{s['USER']}{password}@{host}:{port}/{s['NAME']}"


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30.0, every: float = 0.1) -> Any:
    """The predicate's first truthy value, or a failed test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {timeout} s: {predicate}")
        time.sleep(every)


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log_path = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no clean-up, no goodbye to the database."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 30.0) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


class Workers:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Worker] = []

    def start(
        self,
        *,
        imports: Iterable[str] = (),
        env: dict[str, str] | None = None,
        args: Iterable[str] = (),
    ) -> Worker:
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
            and not key.startswith("QUEUE_")
        }
        environment |= {
            "DATABASE_URL": database_url(),
            "QUEUE_INLINE": "0",
            "TEST_WORKER_IMPORTS": ",".join(imports),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        log = self.directory / f"worker-{len(self.started)}.log"
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "tests.fakes.run_worker", *args],
            cwd=ROOT,
            env=environment,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        worker = Worker(process, log)
        self.started.append(worker)
        return worker

    def registered(self) -> int:
        """Workers alive in the queue's own table (they register when they start)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM procrastinate_workers")
            return cursor.fetchone()[0]

    def stop_all(self) -> None:
        for worker in self.started:
            if worker.alive():
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.started:
            worker.stop()


def queue_tables_clear() -> None:
    """procrastinate's tables are not Django's to flush: jobs left by earlier tests go."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_workers, procrastinate_periodic_defers "
            "CASCADE"
        )


@pytest.fixture
def queue_workers(transactional_db: None, tmp_path: Path) -> Iterator[Workers]:
    if connection.vendor != "postgresql":
        pytest.skip("queue workers need PostgreSQL")
    queue_tables_clear()
    workers = Workers(tmp_path)
    yield workers
    workers.stop_all()
    queue_tables_clear()
