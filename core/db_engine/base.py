"""Django's PostgreSQL backend, telling a busy pool from a dead database.

A request waits at most DB_POOL_TIMEOUT (2 s) for a pooled connection, so that
with the database down it answers 503 within about two seconds (core/
outage.py). But a burst of code requests can hold every pooled connection for
longer than that while the database is fine, and those requests must wait, not
fail. So when the pool times out, one connection of our own asks the database
(a stopped server refuses it at once): if it answers, the request waits up to
DB_POOL_BUSY_TIMEOUT more; if not, the timeout stands and the outage answer
follows. One probe per process a second at most, however many threads time out.

The pool's check before lending a connection (CONN_HEALTH_CHECKS) asks the socket
first (connection_check): a round trip only for a connection idle a while, or
whose socket has something to say.

Also, with prepared statements (DB_PREPARED_STATEMENTS): a cursor that survives a
migration changing a column's type under them and renews their plans every
DB_PLAN_REFRESH_SECONDS (ServerBindingCursor), and one binding client-side on such
a connection (client_bound_cursor) for the few batches of statements sent as one.
"""

import select
import threading
import time

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.utils import CursorWrapper
from psycopg_pool import ConnectionPool, PoolTimeout

from core.admission import admission_held, admission_leave

PROBE_EVERY = 1.0  # seconds between probes of one process

_probe_lock = threading.Lock()
_probe: dict[str, float | bool] = {"at": float("-inf"), "answered": False}


def database_answers(pool: ConnectionPool) -> bool:
    """Whether the database takes a new connection now (cached for PROBE_EVERY)."""
    with _probe_lock:
        now = time.monotonic()
        if now - float(_probe["at"]) >= PROBE_EVERY:
            try:
                with psycopg.connect(conninfo=pool.conninfo, **pool.kwargs) as conn:
                    conn.execute("SELECT 1")
                _probe["answered"] = True
            except psycopg.Error:
                _probe["answered"] = False
            _probe["at"] = time.monotonic()
        return bool(_probe["answered"])


# A connection given back longer ago than this gets the pool's round trip before it is
# lent again; one given back since is trusted if its socket is quiet.
CHECK_IDLE_AFTER = 1.0  # seconds


def connection_check(conn: psycopg.Connection) -> None:
    """The pool's check before lending a connection: raise unless it works.

    psycopg_pool's own check is a round trip (an empty query), and a code request
    checks a connection out twice (before and after its send): two of its five
    round trips, in a burst each one a wait for the GIL among hundreds of threads.
    What the check is for is a connection the server dropped (a restart, an
    outage, an idle timeout): the server then closed its end, so the socket is
    readable (the FATAL message, then end of file), while an idle connection that
    works has nothing to read. So a connection given back under CHECK_IDLE_AFTER ago
    whose libpq state is idle and whose socket is quiet is lent as it is; any other
    (idle longer: a peer gone without a word, whom only a round trip finds; or with
    something to read, a notice as well as a goodbye) gets the round trip.
    """
    pgconn = conn.pgconn
    idle_since = getattr(conn, "_idle_since", None)
    if (
        idle_since is not None
        and time.monotonic() - idle_since < CHECK_IDLE_AFTER
        and pgconn.status == psycopg.pq.ConnStatus.OK
        and pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
    ):
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        if not poller.poll(0):
            return
    ConnectionPool.check_connection(conn)


# PostgreSQL's refusal to run a prepared statement whose result columns changed type
# since it was prepared (SQLSTATE 0A000, feature_not_supported).
STALE_PLAN = "cached plan must not change result type"


def plans_refresh(conn: psycopg.Connection) -> None:
    """Forget the connection's prepared statements once every DB_PLAN_REFRESH_SECONDS.

    A prepared statement (only the hot paths' are: `prepared_cursor`) lets PostgreSQL
    keep one generic plan for it after five runs (plan_cache_mode `auto`, its
    default), which saves planning every run (about a quarter of the database's CPU
    in an activation: docs/benchmarks.md). But such a
    plan is made for the tables' sizes of its moment, and only an ANALYZE (autovacuum)
    or a schema change makes PostgreSQL plan it again: a plan made on a small table
    (a sequential scan) would stay while the table grows, wherever autovacuum is off
    or lags. So psycopg forgets them (`DEALLOCATE ALL` goes with the next statement)
    and prepares them anew, planned for the sizes of then: no plan outlives the
    interval. One clock read per statement; each connection is used by one thread at
    a time.
    """
    now = time.monotonic()
    since = getattr(conn, "_plans_since", None)
    if since is None:
        conn._plans_since = now
    elif now - since >= settings.DB_PLAN_REFRESH_SECONDS:
        conn._prepared.clear()
        conn._plans_since = now


class ServerBindingCursor(base.ServerBindingCursor):
    """Django's server-binding cursor, surviving a migration under prepared statements.

    A deploy migrates while the old processes still serve. PostgreSQL re-plans a
    prepared statement whose tables changed, and an added column changes no
    statement the ORM sends (it names its columns); but a column whose type changes
    (even varchar(32) to varchar(64), before PostgreSQL 17) makes every statement
    prepared with it in its result fail, and psycopg keeps using the statement on
    that connection (it forgets prepared statements only on a rollback or a DROP
    or ALTER it runs itself). So on that error psycopg forgets this connection's
    statements, and a statement outside a transaction, which the server refused
    before running anything, runs again (unprepared, then prepared anew). Inside a
    transaction the error stands (the transaction is lost): the rollback that
    follows makes psycopg forget them too, so each connection fails at most once.
    """

    # Whether psycopg may prepare this cursor's statements (None: once run
    # DB_PREPARE_THRESHOLD times); only a PreparingCursor's are.
    prepare: bool | None = False

    def execute(self, query, params=None, **kwargs):  # noqa: ANN001, ANN003, ANN201 - psycopg's signature
        plans_refresh(self.connection)
        kwargs.setdefault("prepare", self.prepare)
        try:
            return super().execute(query, params, **kwargs)
        except psycopg.errors.FeatureNotSupported as error:
            if error.diag.message_primary != STALE_PLAN:
                raise
            # psycopg's own reset (what its rollback does): its cache now, and the
            # server's statements (DEALLOCATE ALL) with the next statement sent.
            self.connection._prepared.clear()
            if self.connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                raise
        return super().execute(query, params, **kwargs)


class PreparingCursor(ServerBindingCursor):
    """A cursor whose statements psycopg prepares once run DB_PREPARE_THRESHOLD times on
    the connection, so that PostgreSQL may plan them once (`prepared_cursor`)."""

    prepare = None


class DatabaseWrapper(base.DatabaseWrapper):
    # Set while client_bound_cursor or prepared_cursor makes its cursor (one wrapper
    # per thread): the psycopg cursor class to make instead of the connection's own.
    _cursor_class: type[psycopg.Cursor] | None = None

    def __init__(self, settings_dict: dict, *args: object, **kwargs: object) -> None:
        super().__init__(settings_dict, *args, **kwargs)
        pool = settings_dict.get("OPTIONS", {}).get("pool")
        if isinstance(pool, dict) and settings_dict.get("CONN_HEALTH_CHECKS"):
            # Django's default is psycopg_pool's round trip (connection_check's doc).
            pool.setdefault("check", connection_check)

    def _close(self) -> None:
        if self.connection is not None and self.pool:
            # When it went back to the pool: connection_check trusts a recent one.
            self.connection._idle_since = time.monotonic()
        super()._close()

    def client_bound_cursor(self) -> CursorWrapper:
        """A cursor that quotes its parameters into the SQL (client-side binding)
        whatever the connection binds: several statements with parameters in one
        round trip need it, as a server-bound statement is exactly one statement.
        Such statements are never prepared either."""
        return self._cursor_of(base.Cursor)

    def prepared_cursor(self) -> CursorWrapper:
        """A cursor for a hot path's statements: prepared on the connection once it has
        run them DB_PREPARE_THRESHOLD times, so that PostgreSQL may keep one generic
        plan for each (renewed every DB_PLAN_REFRESH_SECONDS) instead of planning every
        run. Every other cursor's statements are planned for their values on every
        run, as Django's are: a generic plan is made for an average parameter, and a
        list or a page read for a member with thousands of rows (the statements of
        profiles and the console) would keep a plan made for one with a few. So only
        statements whose plan cannot depend on their values are sent through here (an
        activation's, a code request's). Without prepared statements (PgBouncer,
        DB_PREPARED_STATEMENTS=0) a cursor like any other."""
        if self.connection is None:
            self.ensure_connection()
        if self.connection.cursor_factory is not ServerBindingCursor:
            return self.cursor()
        return self._cursor_of(PreparingCursor)

    def _cursor_of(self, cls: type[psycopg.Cursor]) -> CursorWrapper:
        self._cursor_class = cls
        try:
            return self.cursor()
        finally:
            self._cursor_class = None

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        if params["cursor_factory"] is base.ServerBindingCursor:
            params["cursor_factory"] = ServerBindingCursor
        return params

    def create_cursor(self, name: str | None = None) -> psycopg.Cursor:
        if name or self._cursor_class is None:
            return super().create_cursor(name)
        factory = self.connection.cursor_factory
        self.connection.cursor_factory = self._cursor_class
        try:
            return super().create_cursor(name)
        finally:
            self.connection.cursor_factory = factory

    def get_new_connection(self, conn_params: dict) -> psycopg.Connection:
        pool = self.pool
        if admission_held() and pool is not None and not pool.get_stats().get("pool_available"):
            # About to wait for a connection (a busy pool, or a database down: up to
            # DB_POOL_TIMEOUT before the outage's 503). That wait needs no CPU, and a
            # request holding its turn through it would keep the next in line from
            # the same 503 (core/admission.py): the turn goes on now.
            admission_leave()
        try:
            return super().get_new_connection(conn_params)
        except PoolTimeout:
            pool = self.pool
            if pool is None or not database_answers(pool):
                raise
            # Busy, not down. (The isolation level was set before the first wait;
            # this project configures none, so the pool's default applies.)
            return pool.getconn(timeout=settings.DB_POOL_BUSY_TIMEOUT)
