"""The queue's own figures: what publishing an event adds to a transaction, and how
soon a worker starts the job after the commit (LISTEN/NOTIFY).

    .venv/bin/python -m bench.queue [--events 300]

Needs PostgreSQL on 127.0.0.1:5432 (a database of its own, `bench_queue`). One worker
(`manage.py queue_worker`, concurrency 8) with a handler that stamps the time it starts
each event; events are published one per transaction, 5 ms apart.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, recreate_database, server_env

HANDLER = """
import os, time
from events.dispatch import handler_register

def stamp(event):
    if event.type == "bench.queue":
        with open(os.environ["BENCH_QUEUE_LOG"], "a") as log:
            log.write(f"{event.pk} {time.time():.6f}\\n")

handler_register(stamp)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    url = recreate_database("bench_queue")
    os.environ.update(server_env(url))
    os.environ["DJANGO_SETTINGS_MODULE"] = "site_config.settings"
    import django

    django.setup()
    from django.db import transaction

    from events.models import Event
    from events.services import event_publish

    # 1. Enqueue cost: a transaction with the event and its job, against the bare row.
    def timed(fn, n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            with transaction.atomic():
                fn()
        return (time.perf_counter() - started) / n * 1000

    n = 1000
    bare = timed(lambda: Event.objects.create(type="bench.bare", data={"n": 1}), n)
    published = timed(lambda: event_publish(type="bench.bare", data={"n": 1}), n)
    print(f"transaction with an Event row only:          {bare:.3f} ms")  # noqa: T201
    print(f"transaction with event_publish (row + job):  {published:.3f} ms")  # noqa: T201
    print(f"the job row adds:                            {published - bare:.3f} ms")  # noqa: T201

    # 2. Pickup latency: commit -> the handler starts, one worker.
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "stamps"
        log.touch()
        module = Path(tmp) / "bench_queue_handler.py"
        module.write_text(HANDLER)
        env = {
            **server_env(url),
            "BENCH_QUEUE_LOG": str(log),
            "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}",
            "TEST_WORKER_IMPORTS": "bench_queue_handler",
        }
        spawned = time.monotonic()
        worker = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "tests.fakes.run_worker"], cwd=ROOT, env=env
        )
        try:
            from django.db import connection

            deadline = time.monotonic() + 120
            while True:  # the worker is up (registered) and listening
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM procrastinate_workers")
                    if cursor.fetchone()[0]:
                        break
                assert time.monotonic() < deadline, "the worker did not start"
                time.sleep(0.2)
            started_at = time.monotonic()
            time.sleep(1)
            committed: dict[str, float] = {}
            for _ in range(args.events):
                with transaction.atomic():
                    event = event_publish(type="bench.queue", data={})
                committed[str(event.pk)] = time.time()
                time.sleep(0.005)
            deadline = time.monotonic() + 60
            while len(log.read_text().splitlines()) < args.events:
                assert time.monotonic() < deadline, "not every event was handled within 60 s"
                time.sleep(0.1)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        lags = sorted(
            (float(at) - committed[pk]) * 1000
            for pk, at in (line.split() for line in log.read_text().splitlines())
        )
    print(f"worker registered after start: waited {started_at - spawned:.1f} s")  # noqa: T201
    p95 = lags[int(len(lags) * 0.95) - 1]
    print(  # noqa: T201
        f"commit -> handler start, {len(lags)} events, 1 worker: "
        f"p50 {statistics.median(lags):.1f} ms, p95 {p95:.1f} ms, max {lags[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
