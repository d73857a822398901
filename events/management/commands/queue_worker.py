"""`manage.py queue_worker`: one worker of the background queue (`make worker`).

Run any number, on any number of machines: each job is taken by one worker
(`SELECT ... FOR UPDATE SKIP LOCKED`). SIGTERM or Ctrl-C stops taking jobs and
waits up to QUEUE_SHUTDOWN_SECONDS for the running ones; a worker killed outright
has its jobs run again elsewhere once its heartbeat is QUEUE_STALLED_SECONDS old.

Each worker also runs the outbox's relay (events/relay.py) in a thread: it queues
the dispatch jobs of committed events in batches, every QUEUE_RELAY_SECONDS when
idle and at once again after a full batch of QUEUE_RELAY_BATCH writes. Every
worker runs one (they share the writes, never waiting for each other), so the
events are relayed as long as any worker runs, whatever queues it serves.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from procrastinate.contrib.django import app

from events.queue import WorkerConnector
from events.relay import Relay, events_relay_all


class Command(BaseCommand):
    help = "Run a worker of the background queue (jobs, periodic housekeeping, event dispatch)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            help="Only this queue (repeatable). Default: every queue.",
        )
        parser.add_argument(
            "--concurrency", type=int, help="Jobs at once. Default: QUEUE_CONCURRENCY."
        )
        parser.add_argument(
            "--burst",
            action="store_true",
            help="Exit once no job is due instead of waiting for more (scripts, tests).",
        )
        parser.add_argument("--name", help="The worker's name in logs and in the job table.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.QUEUE_INLINE:
            raise CommandError(
                "QUEUE_INLINE is on (no PostgreSQL): jobs run inside the web process "
                "after each commit, and there is nothing for a worker to do."
            )
        if getattr(settings, "DB_PGBOUNCER", False) and not settings.QUEUE_DATABASE_URL_SET:
            raise CommandError(
                "DB_PGBOUNCER=1: set QUEUE_DATABASE_URL to PostgreSQL itself (not PgBouncer); "
                "workers need LISTEN/NOTIFY, which PgBouncer's transaction mode does not carry."
            )
        if not settings.QUEUE_DATABASE_URL:
            raise CommandError("Set QUEUE_DATABASE_URL or DATABASE_URL to the PostgreSQL database.")
        concurrency = options["concurrency"] or settings.QUEUE_CONCURRENCY
        connector = WorkerConnector(
            conninfo=settings.QUEUE_DATABASE_URL,
            # One connection listens; the others fetch, finish and beat.
            min_size=2,
            max_size=max(4, concurrency // 2 + 2),
        )
        worker: dict[str, Any] = {"concurrency": concurrency, "wait": not options["burst"]}
        if options["queues"]:
            worker["queues"] = options["queues"]
        if options["name"]:
            worker["name"] = options["name"]
        self.stdout.write(
            f"queue worker: concurrency={concurrency} queues={options['queues'] or 'all'}"
        )
        self.stdout.flush()
        with app.replace_connector(connector):
            if options["burst"]:
                self._burst(worker)
                return
            relay = Relay(batch=settings.QUEUE_RELAY_BATCH, idle=settings.QUEUE_RELAY_SECONDS)
            relay.start()
            try:
                app.run_worker(**worker)
            finally:
                relay.stop()

    def _burst(self, worker: dict[str, Any]) -> None:
        """Relay and run until neither has anything left (jobs may publish events)."""
        events_relay_all(batch=settings.QUEUE_RELAY_BATCH)
        app.run_worker(**worker)
        while events_relay_all(batch=settings.QUEUE_RELAY_BATCH):
            app.run_worker(**worker)
