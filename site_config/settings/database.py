"""The database, its pool and outage answers; the shared cache and sessions."""

from django.core.exceptions import ImproperlyConfigured

from site_config.settings.environment import BASE_DIR, env

# PostgreSQL in production (DATABASE_URL); SQLite for a first `make run`.
# An empty DATABASE_URL (as `make run` passes) means "not set".
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10)
# Outage: with the database unreachable every request must answer 503 within ~2 s
# (docs/operations.md): a request waits at most DB_POOL_TIMEOUT for a pooled
# connection, a new connection at most DB_CONNECT_TIMEOUT (libpq's minimum is 2).
# Under normal load a connection is free within milliseconds (short transactions).
DB_POOL_TIMEOUT = env.float("DB_POOL_TIMEOUT", default=2.0)
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=2)
# A pool timeout while the database answers means a burst holds every connection,
# not an outage: such a request waits this much longer (core/db_engine).
DB_POOL_BUSY_TIMEOUT = env.float("DB_POOL_BUSY_TIMEOUT", default=15.0)
# How long /healthz waits for a pooled connection before a probe connection of its
# own decides (core/health.py): short, so that a probe during a burst that
# holds the whole pool answers quickly, and 503 comes well within 1 s in an outage.
HEALTH_DB_TIMEOUT = env.float("HEALTH_DB_TIMEOUT", default=0.1)
# Retry-After of the 503 answers while the database is unreachable.
OUTAGE_RETRY_AFTER = env.int("OUTAGE_RETRY_AFTER", default=5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's pool (psycopg 3) keeps connections bounded per process while
    # many threads wait on the SMS gateway without holding one.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Django's backend, telling a busy pool from a dead database (core/db_engine).
    DATABASES["default"]["ENGINE"] = "core.db_engine"
    # The pool checks a connection before lending it: after a database restart its
    # idle connections are dead, and without the check the first requests after
    # recovery would still fail.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    options["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": DB_POOL_TIMEOUT,
        # psycopg's pool retries a lost connection with a doubling delay until this
        # many seconds have passed, then the next request starts afresh: without a
        # bound the delay reaches minutes and recovery lags the database by as much.
        "reconnect_timeout": float(OUTAGE_RETRY_AFTER),
    }

# Behind PgBouncer in transaction pooling mode (DB_PGBOUNCER=1, docs/operations.md):
# each transaction, or each statement outside one, may run on a different server
# connection, so nothing may outlive a transaction on the server. Prepared
# statements would (psycopg prepares none with prepare_threshold None, Django's
# default, kept here on purpose); so would the named cursors of .iterator()
# (DISABLE_SERVER_SIDE_CURSORS) and session settings such as SET ROLE. Time zone
# changes are safe: PgBouncer replays TimeZone on every server it hands out. Locks
# are transaction-scoped already (pg_advisory_xact_lock, SELECT ... FOR UPDATE).
DB_PGBOUNCER = env.bool("DB_PGBOUNCER", default=False)
if DB_PGBOUNCER:
    if DATABASES["default"]["ENGINE"] != "core.db_engine":
        raise ImproperlyConfigured("DB_PGBOUNCER=1 needs a PostgreSQL DATABASE_URL (PgBouncer).")
    options = DATABASES["default"]["OPTIONS"]
    session_state = {
        "server_side_binding": options.get("server_side_binding") not in (None, False, "false"),
        "prepare_threshold": options.get("prepare_threshold") not in (None, "", "None"),
        "assume_role": bool(options.get("assume_role")),
    }
    if any(session_state.values()):
        named = ", ".join(name for name, kept in session_state.items() if kept)
        raise ImproperlyConfigured(
            f"DB_PGBOUNCER=1: {named} keeps state on a server connection, which PgBouncer's "
            "transaction pooling hands to other clients; remove it from DATABASE_URL."
        )
    options["prepare_threshold"] = None
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

# Cache and sessions.
# With REDIS_URL (e.g. redis://127.0.0.1:6379/0) every process shares one cache,
# Django's built-in Redis backend, and sessions are read from it (`cached_db`:
# written through to the database, so a Redis restart signs nobody out, and a
# sign-out the cache missed still counts: core/sessions.py). Without
# it (`make run`, SQLite) sessions live in the database alone. Either way a
# sign-out deletes the session where every process looks, at once.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, keeping one redis client per pool (core/cache.py).
            "BACKEND": "core.cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            # Several deployments (or test runs) may share one Redis.
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="referral"),
            # A Redis that hangs must not hold requests: each call gives up quickly
            # and the cache answers a miss (core/cache.py).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # cached_db, except that the database has the last word (core/sessions.py).
    SESSION_ENGINE = "core.sessions"
else:
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
# A request that changes nothing writes no session (Django's default, said here on purpose).
SESSION_SAVE_EVERY_REQUEST = False
