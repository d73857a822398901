"""The background queue: procrastinate on PostgreSQL, or inline after commit on SQLite.

On PostgreSQL (production, the test suite) web processes write job rows through
Django's own connection (procrastinate's Django connector), so a job is queued in
the transaction of the change that asks for it: a rollback queues nothing, a
commit loses nothing. Workers (`manage.py queue_worker`) connect to
QUEUE_DATABASE_URL directly, since LISTEN/NOTIFY does not pass PgBouncer's
transaction mode, and take jobs with `SELECT ... FOR UPDATE SKIP LOCKED`: any
number of workers on any number of machines, each job run by one of them at a time.

With QUEUE_INLINE (the default on SQLite, `make run`) there is no worker: jobs
wait in memory until the transaction that queued them commits, then run in a
thread of the web process, through procrastinate's own worker code (retries,
scheduled retries and task options behave as in production; periodic jobs do not
run, and queued jobs do not survive a restart).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from procrastinate import App, PsycopgConnector, testing
from procrastinate.contrib.django.django_connector import DjangoConnector

logger = logging.getLogger(__name__)

# Not a status procrastinate knows: a job queued inline whose transaction has not
# committed yet. No worker fetches it; a rollback leaves it so, forgotten.
HELD = "held"


class WorkerConnector(PsycopgConnector):
    """A worker's connector: its own pool to QUEUE_DATABASE_URL for fetching, LISTEN
    and heartbeats, but jobs that a job queues (`task.defer()` in a synchronous job,
    e.g. an event published by the fraud judging) go through Django's connection of
    that job's thread, so they join the job's transaction like any other write:
    a job that rolls back queues nothing, and an event's dispatch never runs
    before the event row is committed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._django = DjangoConnector(alias="default")

    def get_sync_connector(self) -> DjangoConnector:
        return self._django


class InlineConnector(testing.InMemoryConnector):
    """procrastinate's in-memory connector, releasing jobs when their transaction commits."""

    def __init__(self) -> None:
        super().__init__()
        self.app: App | None = None
        self._running = threading.Lock()
        self._timer: threading.Timer | None = None

    async def defer_jobs_all(self, jobs: list[Any]) -> list[dict[str, Any]]:
        rows = await super().defer_jobs_all(jobs)
        for row in rows:
            self.jobs[row["id"]]["status"] = HELD
        return rows

    def execute_query_all(self, query: str, **arguments: Any) -> list[dict[str, Any]]:
        # Runs in the caller's thread, so on_commit joins the caller's transaction.
        rows = super().execute_query_all(query, **arguments)
        if self.reverse_queries.get(query) == "defer_jobs":
            ids = [row["id"] for row in rows]
            transaction.on_commit(lambda: self._release(ids))
        return rows

    def _release(self, ids: list[int]) -> None:
        for job_id in ids:
            if self.jobs[job_id]["status"] == HELD:
                self.jobs[job_id]["status"] = "todo"
        self.run_pending()

    def _due(self) -> tuple[bool, datetime | None]:
        now, later = datetime.now(tz=UTC), None
        ready = False
        for job in list(self.jobs.values()):
            if job["status"] != "todo":
                continue
            at = job["scheduled_at"]
            if at is None or at <= now:
                ready = True
            elif later is None or at < later:
                later = at
        return ready, later

    def run_pending(self) -> None:
        """Run every job that is due, in a thread of its own; one runner at a time."""
        if self.app is None or not self._running.acquire(blocking=False):
            return  # the runner now running picks the new jobs up (it loops until none is due)
        thread = threading.Thread(target=self._run, name="queue-inline", daemon=True)
        thread.start()

    def _run(self) -> None:
        assert self.app is not None
        try:
            while self._due()[0]:
                self.app.run_worker(
                    wait=False, install_signal_handlers=False, listen_notify=False, concurrency=1
                )
        except Exception:
            logger.exception("inline queue: the worker failed")
        finally:
            self._running.release()
        later = self._due()[1]
        if later is not None:
            # A retry scheduled for later (procrastinate's retry strategies).
            delay = max(0.0, (later - datetime.now(tz=UTC)).total_seconds()) + 0.05
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(delay, self.run_pending)
            self._timer.daemon = True
            self._timer.start()


def app_ready(app: App) -> None:
    """PROCRASTINATE_ON_APP_READY: the inline connector when QUEUE_INLINE is on."""
    if not settings.QUEUE_INLINE:
        return
    connector = InlineConnector()
    connector.app = app
    app.connector = connector
    app.job_manager.connector = connector
