"""The database backend: a burst that holds every pooled connection is not an outage
(requests wait, not 503); prepared statements straight to PostgreSQL, none behind
PgBouncer, and what a migration under them must not break."""

import contextlib
import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from django.db import NotSupportedError, ProgrammingError, connection, connections, transaction
from psycopg_pool import PoolTimeout

from profiles.models import User
from profiles.services import invite_activate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _plans_kept(settings):  # noqa: ANN001, ANN202 - pytest-django's settings
    # A test that counts prepared statements must not see the connection's plans
    # refreshed midway: in a long suite the interval's boundary falls anywhere (the
    # refresh's own test sets its interval).
    settings.DB_PLAN_REFRESH_SECONDS = 3600


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


def _prepared_after_activations(make_member: Callable[..., User], *, count: int) -> list[str]:
    """The statements prepared on the connection after `count` activations. One
    transaction, so that through PgBouncer it is one server connection too."""
    inviter = make_member()
    members = [make_member() for _ in range(count)]
    with transaction.atomic():
        for member in members:
            invite_activate(user=member, code=inviter.invite_code, ip="127.0.0.1")
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [" ".join(sql.split()) for (sql,) in cursor.fetchall()]


def test_straight_to_postgresql_an_activations_statements_are_prepared(settings, make_member):
    if not settings.DB_PREPARED_STATEMENTS:
        pytest.skip("DB_PREPARED_STATEMENTS=0 in this environment")

    prepared = _prepared_after_activations(make_member, count=settings.DB_PREPARE_THRESHOLD + 1)

    # The activation's own statement (chain read, locks, writes) and its events'.
    assert any(sql.startswith("WITH RECURSIVE chain(") for sql in prepared), prepared
    assert any('INSERT INTO "events_event"' in sql for sql in prepared), prepared
    # PostgreSQL may keep a generic plan for them (its default, `auto`): planned once.
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("auto",)


def _prepared_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


def test_prepared_statements_are_prepared_anew_after_the_refresh_interval(settings):
    if not settings.DB_PREPARED_STATEMENTS:
        pytest.skip("DB_PREPARED_STATEMENTS=0 in this environment")
    settings.DB_PLAN_REFRESH_SECONDS = 0.5
    statement = "SELECT count(*) FROM profiles_user WHERE id > %s"
    with connection.prepared_cursor() as cursor:
        for _ in range(settings.DB_PREPARE_THRESHOLD + 1):
            cursor.execute(statement, [0])
    names = _prepared_names(statement)
    assert names, "the statement was not prepared"
    time.sleep(0.6)
    # The first statement past the interval drops the connection's prepared
    # statements (right after it runs), so a plan made for the tables of half a
    # second ago is gone...
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert _prepared_count() == 0
    with connection.prepared_cursor() as cursor:
        for _ in range(settings.DB_PREPARE_THRESHOLD + 1):
            cursor.execute(statement, [0])
    # ...and the statement is prepared anew (under a new name), planned for now.
    renewed = _prepared_names(statement)
    assert renewed and not set(renewed) & set(names)


def test_statements_off_the_hot_paths_are_planned_on_every_run(settings, make_member):
    # A member's list or the console's page keeps no plan made for another member's
    # (or range's) values: only prepared_cursor's statements are ever prepared.
    if not settings.DB_PREPARED_STATEMENTS:
        pytest.skip("DB_PREPARED_STATEMENTS=0 in this environment")
    before = set(_prepared_statements())
    statement = "SELECT count(*) FROM profiles_user WHERE referred_by_id = %s"
    member = make_member()
    with connection.cursor() as cursor:
        for _ in range(3 * settings.DB_PREPARE_THRESHOLD):
            cursor.execute(statement, [member.pk])
    for _ in range(3 * settings.DB_PREPARE_THRESHOLD):
        list(User.objects.filter(referred_by=member))
    # (Statements prepared by earlier tests on this connection may still be there.)
    assert set(_prepared_statements()) - before == set()


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [sql for (sql,) in cursor.fetchall()]


def _prepared_names(statement: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM pg_prepared_statements WHERE statement = %s",
            [statement.replace("%s", "$1")],
        )
        return [name for (name,) in cursor.fetchall()]


def test_behind_pgbouncer_nothing_is_prepared(settings, through_pgbouncer, make_member):
    prepared = _prepared_after_activations(make_member, count=settings.DB_PREPARE_THRESHOLD + 1)

    assert prepared == []
    assert connection.connection.prepare_threshold is None


def test_a_batch_of_statements_with_parameters_runs_through_the_client_bound_cursor():
    batch = "SELECT %s::int; SELECT %s::int + 1"
    with connection.client_bound_cursor() as cursor:
        cursor.execute(batch, [1, 1])
        cursor.cursor.nextset()
        assert cursor.fetchone() == (2,)
    if connection.settings_dict["OPTIONS"].get("server_side_binding") is True:
        # A server-bound statement is one statement; the connection's cursors still bind so.
        refused = pytest.raises(ProgrammingError, match="multiple commands")
        with refused, connection.cursor() as cursor:
            cursor.execute(batch, [1, 1])


@pytest.fixture
def probe_table() -> Callable[[str], None]:
    """A table of our own (id, name varchar(10)) and a way to change it as a deploy's
    migration would: from another connection, while this one keeps its statements."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE prepared_probe (id integer, name varchar(10))")
        cursor.execute("INSERT INTO prepared_probe VALUES (1, 'a')")
    pool = connection.pool
    assert pool is not None
    other = psycopg.connect(conninfo=pool.conninfo, **{**pool.kwargs, "autocommit": True})

    def migrate(sql: str) -> None:
        other.execute(sql)

    yield migrate
    other.execute("DROP TABLE prepared_probe")
    other.close()


def _probe_read() -> list[tuple]:
    # A hot path's read: the only statements that are ever prepared.
    with connection.prepared_cursor() as cursor:
        cursor.execute("SELECT id, name FROM prepared_probe WHERE id = %s", [1])
        return cursor.fetchall()


def _probe_prepare(settings) -> None:  # noqa: ANN001 - pytest-django's settings
    for _ in range(settings.DB_PREPARE_THRESHOLD + 1):
        _probe_read()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%prepared_probe%"],
        )
        assert cursor.fetchone() == (1,)


def test_a_migration_changing_a_columns_type_does_not_break_prepared_reads(settings, probe_table):
    if not settings.DB_PREPARED_STATEMENTS:
        pytest.skip("DB_PREPARED_STATEMENTS=0 in this environment")
    _probe_prepare(settings)

    probe_table("ALTER TABLE prepared_probe ALTER COLUMN name TYPE varchar(20)")

    # Outside a transaction the refused statement runs again: nobody sees the change.
    assert _probe_read() == [(1, "a")]
    assert _probe_read() == [(1, "a")]


def test_a_migration_changing_a_columns_type_fails_a_transaction_once_per_connection(
    settings, probe_table
):
    if not settings.DB_PREPARED_STATEMENTS:
        pytest.skip("DB_PREPARED_STATEMENTS=0 in this environment")
    _probe_prepare(settings)

    probe_table("ALTER TABLE prepared_probe ALTER COLUMN name TYPE varchar(20)")

    stale = pytest.raises(NotSupportedError, match="cached plan must not change result type")
    with stale, transaction.atomic():
        _probe_read()
    with transaction.atomic():
        assert _probe_read() == [(1, "a")]


@contextlib.contextmanager
def _traced(conn: psycopg.Connection, path) -> Callable[[], bytes]:  # noqa: ANN001
    """What libpq sends and receives on `conn` while the block runs (its own trace)."""
    with open(path, "wb") as trace:
        conn.pgconn.trace(trace.fileno())
        try:
            yield lambda: path.read_bytes()
        finally:
            conn.pgconn.untrace()


def test_a_connection_given_back_moments_ago_is_lent_without_a_round_trip(tmp_path):
    from core.db_engine.base import connection_check

    with psycopg.connect(connection.pool.conninfo, autocommit=True) as conn:
        conn._idle_since = time.monotonic()
        with _traced(conn, tmp_path / "quiet") as sent:
            connection_check(conn)
        assert sent() == b""
        # Idle longer than CHECK_IDLE_AFTER, or never stamped: the round trip.
        conn._idle_since = time.monotonic() - 60
        with _traced(conn, tmp_path / "idle") as sent:
            connection_check(conn)
        assert b"Query" in sent()


def test_a_connection_the_server_closed_moments_ago_is_not_lent():
    from psycopg_pool import ConnectionPool

    from core.db_engine.base import connection_check

    with (
        ConnectionPool(
            connection.pool.conninfo, min_size=1, max_size=1, check=connection_check, timeout=5
        ) as pool,
        psycopg.connect(connection.pool.conninfo, autocommit=True) as admin,
    ):
        with pool.connection() as conn:
            first = conn.info.backend_pid
            conn._idle_since = time.monotonic()
        # A restart's goodbye: the server ends the backend and closes its socket.
        admin.execute("SELECT pg_terminate_backend(%s)", [first])
        time.sleep(0.2)
        with pool.connection() as conn:
            # The check saw the socket readable, its round trip failed, and the pool
            # lent a new connection instead of the dead one.
            assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] != first
