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
# statements would (so they are off, below); so would the named cursors of
# .iterator() (DISABLE_SERVER_SIDE_CURSORS) and session settings such as SET ROLE.
# Time zone changes are safe: PgBouncer replays TimeZone on every server it hands
# out. Locks are transaction-scoped already (pg_advisory_xact_lock, SELECT ... FOR
# UPDATE).
DB_PGBOUNCER = env.bool("DB_PGBOUNCER", default=False)
# Straight to PostgreSQL, psycopg sends parameters apart from the SQL (server-side
# binding) instead of quoting them into it, and prepares a hot path's statement (an
# activation's, a code request's: core.db.prepared_cursor) once the connection has
# run it DB_PREPARE_THRESHOLD times: the server parses and plans it once per
# connection (docs/benchmarks.md for what it saves). Every other statement is
# planned for its values on every run, as Django's default.
# Schema changes during a deploy: PostgreSQL re-plans a prepared statement whose
# tables changed, and an added column changes no statement of the ORM (it names
# its columns); a column whose type changes fails the statements prepared with it
# ("cached plan must not change result type"), which core/db_engine handles (its
# ServerBindingCursor: once per connection at most). Off behind PgBouncer (above).
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=not DB_PGBOUNCER)
DB_PREPARE_THRESHOLD = env.int("DB_PREPARE_THRESHOLD", default=5)
# How long a connection keeps its prepared statements (and their plans) before it
# prepares them anew (core/db_engine.plans_refresh): short enough that a plan made on
# a small table cannot outlast the table's first seconds of growth, long enough that
# a busy connection plans a hot statement about once in a thousand runs. psycopg
# counts runs afresh too, so only a statement run more than DB_PREPARE_THRESHOLD
# times in one interval on one connection is prepared at all.
DB_PLAN_REFRESH_SECONDS = env.float("DB_PLAN_REFRESH_SECONDS", default=5.0)
if DB_PLAN_REFRESH_SECONDS <= 0:
    raise ImproperlyConfigured("DB_PLAN_REFRESH_SECONDS must be more than 0.")
if DB_PREPARE_THRESHOLD < 1:
    # psycopg would prepare a statement before its first run, and PostgreSQL refuses
    # to prepare a batch of several (migrations send some): at least one plain run
    # tells psycopg which statements can be prepared at all.
    raise ImproperlyConfigured("DB_PREPARE_THRESHOLD must be at least 1.")
if DATABASES["default"]["ENGINE"] == "core.db_engine":
    options = DATABASES["default"]["OPTIONS"]
    # DATABASE_URL's query string gives strings; Django binds server-side only for
    # `server_side_binding is True`, so "true" would silently mean client-side.
    if isinstance(options.get("server_side_binding"), str):
        options["server_side_binding"] = options["server_side_binding"].lower() in (
            "1",
            "true",
            "on",
            "yes",
        )
    if DB_PGBOUNCER:
        session_state = {
            "DB_PREPARED_STATEMENTS": DB_PREPARED_STATEMENTS,
            "server_side_binding": bool(options.get("server_side_binding")),
            "prepare_threshold": options.get("prepare_threshold") not in (None, "", "None"),
            "assume_role": bool(options.get("assume_role")),
        }
        if any(session_state.values()):
            named = ", ".join(name for name, kept in session_state.items() if kept)
            raise ImproperlyConfigured(
                f"DB_PGBOUNCER=1: {named} keeps state on a server connection, which "
                "PgBouncer's transaction pooling hands to other clients; remove it "
                "(DB_PREPARED_STATEMENTS=0, nothing of it on DATABASE_URL)."
            )
        # Django's default, pinned: psycopg prepares nothing.
        options["prepare_threshold"] = None
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    elif DB_PREPARED_STATEMENTS:
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", DB_PREPARE_THRESHOLD)
        # PostgreSQL's plan_cache_mode stays `auto`: after five runs it may keep one
        # generic plan for a prepared statement (planning was a quarter of the
        # database's CPU in an activation). Such a plan is made for the tables' sizes
        # of its moment, so each connection's statements are prepared anew every
        # DB_PLAN_REFRESH_SECONDS (core/db_engine): a plan made on a small table (an
        # activation's lock read once kept a sequential scan of the members while
        # they grew: the database's CPU per activation from 1.6 to 7 ms in 3,000
        # activations, with no ANALYZE in between) lasts that long at most.
elif DB_PGBOUNCER:
    raise ImproperlyConfigured("DB_PGBOUNCER=1 needs a PostgreSQL DATABASE_URL (PgBouncer).")

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
