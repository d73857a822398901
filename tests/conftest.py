import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from auth_flow.models import Challenge
from auth_flow.sms import LocmemBackend
from profiles.models import User
from profiles.services import member_get_or_create
from tests.browser import CHROMIUM_ARGS, require_chromium
from tests.fakes.worker import queue_workers  # noqa: F401 - a fixture for every test


def _database_vendor() -> str:
    return connections["default"].vendor


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {_database_vendor()}"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") and _database_vendor() != "postgresql":
        raise pytest.UsageError(
            "CI must run the suite on PostgreSQL: set TEST_DATABASE_URL / DATABASE_URL."
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _database_vendor() == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks, parallel connections)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, for every browser test (tests/browser.py).

    Missing, the tests skip with one reason naming what to install; CI fails instead.
    One per module, not per session: Playwright's event loop stays in charge of this
    thread while it runs, which would break later tests that start their own
    (asyncio.run in tests/bench) after the API docs test.
    """
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django refuses ORM
    # calls from such a thread unless told the loop is not really in charge.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def _fast_sms(settings: Any) -> Iterator[None]:
    """Tests send through the in-memory outbox with no simulated gateway wait."""
    settings.SMS_BACKEND = "locmem"
    settings.OTP_SEND_DELAY = [0.0, 0.0]
    LocmemBackend.outbox.clear()
    yield
    LocmemBackend.outbox.clear()


@pytest.fixture
def outbox() -> list:
    return LocmemBackend.outbox


_phone_numbers = iter(range(1_000_000, 9_999_999))


@pytest.fixture
def new_phone() -> Callable[[], str]:
    return lambda: f"+7999{next(_phone_numbers):07d}"


@pytest.fixture
def make_member(new_phone: Callable[[], str]) -> Callable[..., User]:
    def make(phone: str | None = None) -> User:
        return member_get_or_create(phone=phone or new_phone())[0]

    return make


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def member_api(make_member: Callable[..., User]) -> Callable[..., APIClient]:
    """A client signed in as `member` (a new one if not given) with a fresh access token."""

    def sign_in(member: User | None = None) -> APIClient:
        client = APIClient()
        token = RefreshToken.for_user(member or make_member()).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return sign_in


@pytest.fixture
def age_challenges() -> Callable[..., None]:
    """Move a phone's challenges back in time, as if `seconds` had passed."""

    def age(phone: str, seconds: float) -> None:
        shift = timedelta(seconds=seconds)
        for challenge in Challenge.objects.filter(phone=phone):
            challenge.created_at -= shift
            challenge.expires_at -= shift
            challenge.save(update_fields=["created_at", "expires_at"])

    return age


@pytest.fixture(scope="session")
def pgbouncer_server() -> Iterator[Any]:
    """PgBouncer (transaction pooling, site_config/pgbouncer.ini) in front of the test database."""
    from tests.pgbouncer import pgbouncer, why_no_pgbouncer

    reason = why_no_pgbouncer()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    database = connections["default"].settings_dict
    with pgbouncer(
        server_host=database["HOST"] or "127.0.0.1", server_port=int(database["PORT"] or 5432)
    ) as bouncer:
        yield bouncer


@pytest.fixture
def through_pgbouncer(pgbouncer_server: Any) -> Iterator[Any]:
    """Every connection of the test, its threads' too, goes through PgBouncer (DB_PGBOUNCER=1)."""
    database = connections["default"]
    keys = ("HOST", "PORT", "DISABLE_SERVER_SIDE_CURSORS", "OPTIONS")
    saved = {key: database.settings_dict.get(key) for key in keys}
    logins_before = pgbouncer_server.output().count("login attempt")
    database.close()
    database.close_pool()
    # As DB_PGBOUNCER=1 configures it (site_config/settings/database.py): client-side
    # binding, nothing prepared, no startup options (PgBouncer refuses them).
    options = {**database.settings_dict["OPTIONS"], "prepare_threshold": None}
    options.pop("server_side_binding", None)
    options.pop("options", None)
    database.settings_dict.update(
        HOST="127.0.0.1",
        PORT=str(pgbouncer_server.port),
        DISABLE_SERVER_SIDE_CURSORS=True,
        OPTIONS=options,
    )
    try:
        yield pgbouncer_server
        assert pgbouncer_server.output().count("login attempt") > logins_before, (
            "nothing went through PgBouncer"
        )
    finally:
        database.close()
        database.close_pool()
        database.settings_dict.update(saved)
        # PgBouncer keeps its server connections to the test database open for the
        # session: a later test counting the database's connections (the burst in
        # tests/bench) would count them as its own. Nothing else is connected now.
        _drop_other_connections(database.settings_dict)


def _drop_other_connections(settings_dict: dict) -> None:
    import psycopg

    with psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        dbname=settings_dict["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def plan_of(sql: str, *, prepare: str, rule_out: tuple[str, ...]) -> str:
    """PostgreSQL's plan for `sql` after `prepare` (ANALYZE or VACUUM ANALYZE of its
    table, as a live table is), with the plan types `rule_out` names switched off
    (e.g. "seqscan"): whether the query still matches the index it is meant to use."""
    with connection.cursor() as cursor:
        cursor.execute(prepare)
        for kind in rule_out:
            cursor.execute(f"SET enable_{kind} = off")
        try:
            cursor.execute("EXPLAIN " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            for kind in rule_out:
                cursor.execute(f"RESET enable_{kind}")


def run_in_parallel(functions: list[Callable[[], Any]]) -> list[Any]:
    """Run each function in its own thread (its own database connection), all at once.

    Returns each result or the exception it raised.
    """
    barrier = threading.Barrier(len(functions))
    results: list[Any] = [None] * len(functions)

    def worker(index: int, function: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = function()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def member_at(new_phone: Callable[[], str]) -> Callable[..., User]:
    """A member with the facts a test needs, set directly (times, IPs, inviter)."""

    def make(
        *,
        phone: str | None = None,
        joined: datetime | None = None,
        inviter: User | None = None,
        activated: datetime | None = None,
        signup_ip: str | None = None,
        activation_ip: str | None = None,
    ) -> User:
        joined = joined or timezone.now() - timedelta(days=1)
        user = User.objects.create_user(
            phone or new_phone(), date_joined=joined, signup_ip=signup_ip
        )
        if inviter is not None:
            user.referred_by = inviter
            user.activated_at = activated or joined + timedelta(minutes=5)
            user.activation_ip = activation_ip
            user.save(update_fields=["referred_by", "activated_at", "activation_ip"])
        return user

    return make


@contextmanager
def rows_locked(rows: QuerySet) -> Iterator[None]:
    """`rows` locked (SELECT ... FOR UPDATE) by another connection, in a thread of its
    own, for the block: whoever needs them queues behind until the block ends."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(rows.select_for_update())
                held.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10), "the rows were not locked"
    try:
        yield
    finally:
        release.set()
        holder.join(timeout=30)
