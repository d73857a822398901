"""The background queue (procrastinate on PostgreSQL) and the outbox of events."""

from django.core.exceptions import ImproperlyConfigured

from site_config.settings.database import DATABASES
from site_config.settings.environment import env

_ON_POSTGRES = DATABASES["default"]["ENGINE"] in (
    "core.db_engine",
    "django.db.backends.postgresql",
)

# Workers LISTEN for new jobs, which PgBouncer's transaction mode does not carry:
# they connect here, straight to PostgreSQL. Web processes queue jobs through
# DATABASE_URL, in the transaction of the change. Default: DATABASE_URL.
QUEUE_DATABASE_URL_SET = bool(env.str("QUEUE_DATABASE_URL", default=""))
QUEUE_DATABASE_URL = env.str("QUEUE_DATABASE_URL", default="") or env.str(
    "DATABASE_URL", default=""
)
# Run jobs in the web process after the commit instead of through workers: the
# default without PostgreSQL (`make run` on SQLite), where no worker can run.
QUEUE_INLINE = env.bool("QUEUE_INLINE", default=not _ON_POSTGRES)
if not QUEUE_INLINE and not _ON_POSTGRES:
    raise ImproperlyConfigured(
        "QUEUE_INLINE=0 needs PostgreSQL (DATABASE_URL): the queue lives in its tables."
    )
# Jobs one worker process runs at once (threads for the synchronous jobs).
QUEUE_CONCURRENCY = env.int("QUEUE_CONCURRENCY", default=8)
# Seconds between a worker's looks for due jobs besides LISTEN/NOTIFY: retries
# scheduled for later and jobs queued again after a stall are found this way.
QUEUE_POLL_SECONDS = env.float("QUEUE_POLL_SECONDS", default=1.0)
# A worker's heartbeat, and how old it may get before its jobs count as stalled
# (the worker was killed or lost) and are queued again: a killed worker's job
# runs again on another worker within about QUEUE_STALLED_SECONDS + 6 s.
QUEUE_HEARTBEAT_SECONDS = env.float("QUEUE_HEARTBEAT_SECONDS", default=2.0)
QUEUE_STALLED_SECONDS = env.float("QUEUE_STALLED_SECONDS", default=10.0)
# On SIGTERM a worker stops taking jobs and waits this long for running ones.
QUEUE_SHUTDOWN_SECONDS = env.float("QUEUE_SHUTDOWN_SECONDS", default=20.0)
# The outbox's relay in each worker (events/relay.py): how long it waits when it
# found fewer than a full batch, and the writes one batch takes (one transaction,
# their dispatch jobs EVENTS_PER_JOB events each). Commit to queued: at most this
# wait plus the batch's own time.
QUEUE_RELAY_SECONDS = env.float("QUEUE_RELAY_SECONDS", default=0.1)
QUEUE_RELAY_BATCH = env.int("QUEUE_RELAY_BATCH", default=500)
# A batch of 0 would claim no write ever (no event dispatched), and a wait of 0 has
# every worker's relay query the database nonstop.
if QUEUE_RELAY_BATCH < 1:
    raise ImproperlyConfigured("QUEUE_RELAY_BATCH must be more than 0.")
if QUEUE_RELAY_SECONDS <= 0:
    raise ImproperlyConfigured("QUEUE_RELAY_SECONDS must be more than 0.")
# Failed jobs stay this long for inspection (successful ones are deleted at once).
QUEUE_JOB_RETENTION_DAYS = env.int("QUEUE_JOB_RETENTION_DAYS", default=14)
# Events (the outbox) are kept this long.
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=30)

# procrastinate's Django app (procrastinate.contrib.django).
PROCRASTINATE_ON_APP_READY = "events.queue.app_ready"
# Every worker's tuning (events/queue.py says why), `manage.py procrastinate worker` too.
PROCRASTINATE_WORKER_DEFAULTS = {
    "concurrency": QUEUE_CONCURRENCY,
    "fetch_job_polling_interval": QUEUE_POLL_SECONDS,
    "update_heartbeat_interval": QUEUE_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": QUEUE_STALLED_SECONDS,
    "shutdown_graceful_timeout": QUEUE_SHUTDOWN_SECONDS,
    # The outbox keeps the events; failed jobs stay for inspection.
    "delete_jobs": "successful",
}
# procrastinate's migrations (PostgreSQL functions) are skipped on SQLite.
DATABASE_ROUTERS = ["events.routers.QueueTablesRouter"]
