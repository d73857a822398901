"""Delivery records of parallel sends go in shared statements, each still its own."""

import threading
import time

import pytest
from django.db import DataError, OperationalError, connection

from auth_flow.models import Challenge
from auth_flow.services import _challenge_create, _delivery_records, _delivery_sent
from auth_flow.sms import SendResult
from tests.conftest import rows_locked, run_in_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _challenges(new_phone, count: int) -> list:
    return [
        _challenge_create(phone=new_phone(), ip="203.0.113.40", code="1234", token=f"t{i}")
        for i in range(count)
    ]


def test_parallel_sends_each_record_their_own_delivery(new_phone):
    challenges = _challenges(new_phone, 30)
    # A status report that came first: its outcome stays (only pending becomes sent).
    Challenge.objects.filter(pk=challenges[0].pk).update(delivery=Challenge.Delivery.DELIVERED)

    results = run_in_parallel(
        [
            lambda c=c, i=i: _delivery_sent(
                challenge=c,
                sent=SendResult(provider="smsru", message_id=f"m-{i}", outcome_known=i != 1),
            )
            for i, c in enumerate(challenges)
        ]
    )

    assert results == [None] * 30
    rows = {row.pk: row for row in Challenge.objects.filter(pk__in=[c.pk for c in challenges])}
    for i, challenge in enumerate(challenges):
        row = rows[challenge.pk]
        assert (row.provider, row.message_id) == ("smsru", f"m-{i}")
        assert row.delivery_updated_at is not None
        expected = {0: "delivered", 1: "pending"}.get(i, "sent")
        assert row.delivery == expected, i


def test_a_record_that_fails_fails_only_its_own_request(new_phone):
    """Records arriving while a statement runs share the next one; a bad record
    among them (a message id longer than the column) is its own request's error."""
    first, *batch = _challenges(new_phone, 5)
    # Hold the first record's row, so that its statement waits and the next four
    # records queue up behind it as one batch.
    with rows_locked(Challenge.objects.filter(pk=first.pk)):
        results: dict[int, object] = {}

        def record(challenge, message_id: str) -> None:  # noqa: ANN001
            try:
                _delivery_sent(
                    challenge=challenge, sent=SendResult(provider="smsru", message_id=message_id)
                )
                results[challenge.pk] = None
            except Exception as error:  # noqa: BLE001 - the test looks at it
                results[challenge.pk] = error
            finally:
                connection.close()

        threads = [threading.Thread(target=record, args=(first, "first"))]
        threads[0].start()
        time.sleep(0.3)
        ids = ["ok-1", "x" * 65, "ok-3", "ok-4"]
        threads += [
            threading.Thread(target=record, args=(c, m)) for c, m in zip(batch, ids, strict=True)
        ]
        for thread in threads[1:]:
            thread.start()
        deadline = time.monotonic() + 5
        while len(_delivery_records._collecting.records) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(_delivery_records._collecting.records) == 4  # one batch behind the first
    for thread in threads:
        thread.join(timeout=10)

    assert isinstance(results.pop(batch[1].pk), DataError)
    assert set(results.values()) == {None}
    stored = dict(
        Challenge.objects.filter(pk__in=[c.pk for c in (first, *batch)]).values_list(
            "pk", "message_id"
        )
    )
    assert stored == {
        first.pk: "first",
        batch[0].pk: "ok-1",
        batch[1].pk: "",
        batch[2].pk: "ok-3",
        batch[3].pk: "ok-4",
    }


def test_senders_waiting_for_a_batch_leave_the_pool_to_its_writer(new_phone, settings):
    """In a burst every pooled connection can be held by senders that recorded the
    requester's older codes (a resend, a known device) and now wait for the batch
    being written. Its writer may hold none (a first request gave its connection
    back before the send): it must still get one, or every sender waits out the
    pool's timeouts and answers 503 while the database is fine."""
    settings.DB_POOL_BUSY_TIMEOUT = 1.0  # after DB_POOL_TIMEOUT: 3 s to fail, not 17
    pool = connection.pool
    pool.open(wait=True)
    connection.close()  # this test's own thread holds none
    writer_record, *waiting = _challenges(new_phone, pool.max_size + 1)
    connection.close()
    holding = threading.Barrier(len(waiting) + 1)
    results: dict[int, object] = {}

    def record(challenge, *, hold: bool) -> None:  # noqa: ANN001
        try:
            if hold:
                # A connection checked out, as _older_codes_replace leaves it.
                Challenge.objects.filter(pk=challenge.pk).exists()
                holding.wait(5)
                time.sleep(0.3)  # the writer leads its batch and asks the pool first
            else:
                holding.wait(5)
            _delivery_sent(challenge=challenge, sent=SendResult(provider="smsru", message_id="m"))
            results[challenge.pk] = None
        except Exception as error:  # noqa: BLE001 - the test looks at it
            results[challenge.pk] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(c,), kwargs={"hold": True}) for c in waiting]
    threads.append(threading.Thread(target=record, args=(writer_record,), kwargs={"hold": False}))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    took = time.monotonic() - started

    errors = {pk: repr(e) for pk, e in results.items() if e is not None}
    assert not errors, (errors, took, writer_record.pk)
    assert took < settings.DB_POOL_TIMEOUT, took
    assert Challenge.objects.filter(message_id="m").count() == len(waiting) + 1


# How long a statement takes to fail with the database gone: the pool's wait, then
# a probe that is refused (core/db_engine), about DB_POOL_TIMEOUT.
OUTAGE_WAIT = 1.0


def _refused_after_a_wait(execute, sql, params, many, context):  # noqa: ANN001, ANN201
    time.sleep(OUTAGE_WAIT)
    raise OperationalError("couldn't get a connection: connection refused")


def test_in_an_outage_each_sender_answers_within_one_wait_not_two(new_phone):
    """Senders arriving while a batch's statement fails for the outage would form the
    next batch and wait for its statement to fail too: twice the pool's wait before
    their 503. The outage a batch met answers the senders already waiting as well."""
    first, *batch = _challenges(new_phone, 4)
    took: dict[int, float] = {}
    errors: dict[int, object] = {}

    def record(challenge, delay: float) -> None:  # noqa: ANN001
        time.sleep(delay)
        started = time.monotonic()
        try:
            with connection.execute_wrapper(_refused_after_a_wait):
                _delivery_sent(challenge=challenge, sent=SendResult(provider="smsru"))
        except Exception as error:  # noqa: BLE001 - the test looks at it
            errors[challenge.pk] = error
        finally:
            took[challenge.pk] = time.monotonic() - started
            connection.close()

    threads = [threading.Thread(target=record, args=(first, 0.0))]
    threads += [threading.Thread(target=record, args=(c, 0.2)) for c in batch]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(errors) == 4 and all(isinstance(e, OperationalError) for e in errors.values())
    assert max(took.values()) < 1.5 * OUTAGE_WAIT, took
