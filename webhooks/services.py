"""Webhook rules: endpoints, fan-out of events into messages, delivery, replay, purges.

Writes only; reads are in selectors. Delivery is at least once: a message is
written in the transaction that handles its event, and its delivery job is
queued in that same transaction; a try holds the message's row lock from
before the send until its attempt is logged, so two workers never send one
attempt at once, and a worker killed mid-send rolls back and leaves the message
due for the next try (a duplicate with the same `webhook-id` is possible, a loss
is not).
"""

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from events.dispatch import dispatch_started
from webhooks import crypto, sender, signing
from webhooks.models import ALL_EVENTS, Attempt, Endpoint, Message
from webhooks.ssrf import EndpointRefused, target_resolve

logger = logging.getLogger(__name__)

# The events an endpoint may subscribe to (docs/webhooks.md), and the test one.
EVENT_TYPES = (
    "member.created",
    "referral.activated",
    "member.suspended",
    "member.deleted",
    "fraud_flag.raised",
    "reward.created",
    "reward.approved",
    "reward.fulfilled",
    "reward.voided",
)
TEST_EVENT_TYPE = "webhook.test"
# How long a rotated-out secret still signs beside the new one.
ROTATION_OVERLAP = timedelta(hours=24)
# How long the events handler spends on first tries before queueing the rest.
FIRST_TRY_BUDGET = 2.0
# A pending message this far past its time with no worker on it was lost by its job.
OVERDUE_AFTER = timedelta(seconds=15)


class EventLike(Protocol):
    id: Any
    type: str
    data: dict[str, Any]
    occurred_at: datetime


class EventTypesInvalid(DomainError):
    code = "webhook_event_types_invalid"
    field = "event_types"


class MessageNotReplayable(DomainError):
    code = "webhook_message_not_replayable"
    status = 409


# ------------------------------------------------------------------ endpoints


def event_types_parse(*, value: str | Iterable[str]) -> list[str]:
    """Exact event names or `*`, from a comma-separated string or a list."""
    items = value.split(",") if isinstance(value, str) else list(value)
    types = sorted({item.strip() for item in items if item and item.strip()})
    unknown = [item for item in types if item != ALL_EVENTS and item not in EVENT_TYPES]
    if not types or unknown:
        raise EventTypesInvalid(
            _("Name one or more event types (%(known)s) or *. Unknown: %(unknown)s")
            % {"known": ", ".join(EVENT_TYPES), "unknown": ", ".join(unknown) or "—"}
        )
    return [ALL_EVENTS] if ALL_EVENTS in types else types


def _url_check(url: str) -> str:
    url = url.strip()
    target_resolve(url)  # raises EndpointRefused: a private host, or no host at all
    return url


def endpoint_create(
    *, url: str, event_types: str | Iterable[str], description: str = ""
) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret, in clear this once (shown once)."""
    url = _url_check(url)
    types = event_types_parse(value=event_types)
    secret = crypto.secret_generate()
    endpoint = Endpoint.objects.create(
        url=url,
        event_types=types,
        description=description.strip()[:200],
        secret_encrypted=crypto.secret_encrypt(secret),
    )
    return endpoint, secret


def endpoint_update(
    *, endpoint: Endpoint, url: str, event_types: str | Iterable[str], description: str = ""
) -> Endpoint:
    endpoint.url = _url_check(url)
    endpoint.event_types = event_types_parse(value=event_types)
    endpoint.description = description.strip()[:200]
    endpoint.save(update_fields=["url", "event_types", "description", "updated_at"])
    return endpoint


def endpoint_disable(
    *, endpoint: Endpoint, reason: str = Endpoint.DisabledReason.STAFF
) -> Endpoint:
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.enabled:
            locked.enabled = False
            locked.disabled_reason = reason
            locked.disabled_at = timezone.now()
            locked.save(update_fields=["enabled", "disabled_reason", "disabled_at", "updated_at"])
    return locked


def endpoint_enable(*, endpoint: Endpoint) -> Endpoint:
    """Back on, with a clean slate: its failing run starts again from the next failure."""
    _url_check(endpoint.url)
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.enabled = True
        locked.disabled_reason = ""
        locked.disabled_at = None
        locked.failing_since = None
        locked.save(
            update_fields=[
                "enabled",
                "disabled_reason",
                "disabled_at",
                "failing_since",
                "updated_at",
            ]
        )
    return locked


def endpoint_rotate(*, endpoint: Endpoint) -> str:
    """A new signing secret (returned, shown once); the old one signs too for 24 hours."""
    secret = crypto.secret_generate()
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret_encrypted = locked.secret_encrypted
        locked.previous_secret_until = timezone.now() + ROTATION_OVERLAP
        locked.secret_encrypted = crypto.secret_encrypt(secret)
        locked.save(
            update_fields=[
                "secret_encrypted",
                "previous_secret_encrypted",
                "previous_secret_until",
                "updated_at",
            ]
        )
    endpoint.refresh_from_db()
    return secret


def endpoint_secrets(*, endpoint: Endpoint, now: datetime | None = None) -> list[str]:
    """The secrets a message is signed with: the current one, and a rotated-out one
    while its overlap lasts."""
    now = now or timezone.now()
    secrets = [crypto.secret_decrypt(endpoint.secret_encrypted)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_until
        and endpoint.previous_secret_until > now
    ):
        secrets.append(crypto.secret_decrypt(endpoint.previous_secret_encrypted))
    return secrets


def secrets_rekey() -> int:
    """Every stored secret re-encrypted under the first WEBHOOK_SECRET_KEY."""
    count = 0
    with transaction.atomic():
        for endpoint in Endpoint.objects.select_for_update():
            endpoint.secret_encrypted = crypto.secret_reencrypt(endpoint.secret_encrypted)
            if endpoint.previous_secret_encrypted:
                endpoint.previous_secret_encrypted = crypto.secret_reencrypt(
                    endpoint.previous_secret_encrypted
                )
            endpoint.save(update_fields=["secret_encrypted", "previous_secret_encrypted"])
            count += 1
    return count


# ------------------------------------------------------------------ messages


def _schedule(message_ids: list[int], *, at: datetime | None = None) -> None:
    """Queue delivery jobs in the caller's transaction (the queue lives in the same
    database): a rollback queues nothing, and no job runs before its message commits
    (inside a worker too: its connector queues through Django's connection,
    events/queue.py)."""
    from webhooks import tasks

    for message_id in message_ids:
        tasks.deliver.configure(schedule_at=at).defer(message_id=message_id)


def event_fan_out(event: EventLike) -> list[int]:
    """The events handler: one message per enabled endpoint that subscribes to the
    event's type. Idempotent (a re-run adds no message and tries only what is still
    pending), as the dispatch is at least once.

    Run by the dispatch job outside a transaction (the usual case), it commits the
    messages and makes their first try itself, for up to FIRST_TRY_BUDGET seconds of
    the dispatch job (its events share them), then queues jobs for the rest: one
    queue hop less from commit to delivery. A
    worker killed meanwhile has the dispatch run again (stalled-job recovery),
    and the overdue sweep is the net under both. Inside a transaction it only
    queues the jobs, which run once it commits.
    """
    endpoints = [
        endpoint
        for endpoint in Endpoint.objects.filter(enabled=True)
        if endpoint.subscribes_to(event.type)
    ]
    pending: list[int] = []
    if endpoints:
        now = timezone.now()
        Message.objects.bulk_create(
            [
                Message(
                    endpoint=endpoint,
                    event_id=event.id,
                    event_type=event.type,
                    occurred_at=event.occurred_at,
                    data=event.data,
                    next_attempt_at=now,
                )
                for endpoint in endpoints
            ],
            ignore_conflicts=True,
        )
        pending = list(
            Message.objects.filter(
                event_id=event.id, state=Message.State.PENDING, endpoint__in=endpoints
            ).values_list("pk", flat=True)
        )
        if transaction.get_connection().in_atomic_block:
            _schedule(pending)
        else:
            _try_now_then_queue(pending)
    if event.type == "member.deleted":
        member_data_purge(data=event.data, keep_event_id=event.id)
    return pending


def _try_now_then_queue(message_ids: list[int]) -> None:
    # The budget is the dispatch job's (its events share it): with a receiver that
    # hangs, the later events of an activation go to the queue at once, where other
    # workers send them, instead of each waiting out a budget of its own.
    started = dispatch_started() or time.monotonic()
    for index, message_id in enumerate(message_ids):
        if time.monotonic() - started > FIRST_TRY_BUDGET:
            _schedule(message_ids[index:])
            return
        message_deliver(message_id=message_id)


def test_event_send(*, endpoint: Endpoint) -> Message:
    """A `webhook.test` message to this endpoint alone ("send test event")."""
    with transaction.atomic():
        message = Message.objects.create(
            endpoint=endpoint,
            event_id=uuid.uuid4(),
            event_type=TEST_EVENT_TYPE,
            occurred_at=timezone.now(),
            data={"endpoint_id": endpoint.pk, "message": "A test event from the console."},
            next_attempt_at=timezone.now(),
        )
        _schedule([message.pk])
    return message


def _failed_run_step(message: Message, now: datetime) -> datetime | None:
    """When the next try of a failing message is due, or None after the last one."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    step = message.run_attempts  # tries made in this run, including the one that failed
    if step > len(schedule):
        return None
    return now + timedelta(seconds=schedule[step - 1])


def message_deliver(*, message_id: int) -> str:
    """Try one message once, if it is due and no other worker is trying it.

    Returns what happened: "delivered", "retry", "failed", or "skipped" (not
    pending, not due yet, or locked by another worker's try).
    """
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=message_id, state=Message.State.PENDING)
            .first()
        )
        if message is None:
            return "skipped"
        now = timezone.now()
        if message.next_attempt_at and message.next_attempt_at > now + timedelta(seconds=1):
            # An early job (a replay moved the time): the later one sends.
            return "skipped"
        endpoint = message.endpoint
        if not endpoint.enabled:
            _finish_failed(message)
            return "failed"
        body = signing.body_render(
            event_type=message.event_type, occurred_at=message.occurred_at, data=message.data
        )
        try:
            headers = signing.headers_sign(
                msg_id=str(message.event_id), body=body, secrets=endpoint_secrets(endpoint=endpoint)
            )
        except crypto.SecretUnreadable as error:
            outcome = sender.Outcome(None, 0, "", str(error)[:300])
        else:
            outcome = sender.http_post(url=endpoint.url, body=body, headers=headers)
        return _record(message, outcome)


def _record(message: Message, outcome: sender.Outcome) -> str:
    now = timezone.now()
    message.attempts += 1
    message.run_attempts += 1
    Attempt.objects.create(
        message=message,
        number=message.attempts,
        attempted_at=now - timedelta(milliseconds=outcome.latency_ms),
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        response_excerpt=outcome.excerpt,
        error=outcome.error[:300],
        succeeded=outcome.succeeded,
    )
    message.last_status_code = outcome.status_code
    endpoint = message.endpoint
    if outcome.succeeded:
        message.state = Message.State.DELIVERED
        message.delivered_at = now
        message.next_attempt_at = None
        _save(message)
        if endpoint.failing_since is not None:
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return "delivered"
    # A failure: the endpoint's failing run starts (or goes on); too long, it is disabled.
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    endpoint.refresh_from_db(fields=["failing_since", "enabled"])
    if endpoint.enabled and endpoint.failing_since <= now - timedelta(
        days=settings.WEBHOOK_DISABLE_AFTER_DAYS
    ):
        endpoint_disable(endpoint=endpoint, reason=Endpoint.DisabledReason.FAILING)
        logger.warning(
            "webhook endpoint %s disabled: failing since %s", endpoint.pk, endpoint.failing_since
        )
        _finish_failed(message)
        return "failed"
    due = _failed_run_step(message, now)
    if due is None:
        _finish_failed(message)
        return "failed"
    message.next_attempt_at = due
    _save(message)
    _schedule([message.pk], at=due)
    return "retry"


def _save(message: Message) -> None:
    message.save(
        update_fields=[
            "state",
            "attempts",
            "run_attempts",
            "next_attempt_at",
            "last_status_code",
            "delivered_at",
            "updated_at",
        ]
    )


def _finish_failed(message: Message) -> None:
    message.state = Message.State.FAILED
    message.next_attempt_at = None
    _save(message)


def message_replay(*, message: Message) -> Message:
    """A failed message tried again from the start of the schedule."""
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.state != Message.State.FAILED:
            raise MessageNotReplayable(_("Only a failed message can be replayed."))
        _replay(locked, now=timezone.now())
    return locked


def _replay(message: Message, *, now: datetime) -> None:
    message.state = Message.State.PENDING
    message.run_attempts = 0
    message.next_attempt_at = now
    _save(message)
    _schedule([message.pk])


def endpoint_replay_failed(*, endpoint: Endpoint) -> int:
    """Every failed message of the endpoint tried again; returns how many."""
    count = 0
    now = timezone.now()
    with transaction.atomic():
        for message in Message.objects.select_for_update(skip_locked=True).filter(
            endpoint=endpoint, state=Message.State.FAILED
        ):
            _replay(message, now=now)
            count += 1
    return count


def messages_overdue_requeue(*, now: datetime | None = None) -> int:
    """Queue again the pending messages well past their time that no worker is
    trying (a lost or crashed job): the safety net under at-least-once."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(state=Message.State.PENDING, next_attempt_at__lte=now - OVERDUE_AFTER)
            .values_list("pk", flat=True)[:500]
        )
        if ids:
            Message.objects.filter(pk__in=ids).update(next_attempt_at=now)
            _schedule(ids)
    return len(ids)


# ------------------------------------------------------------------ retention


def log_purge(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Messages (with their attempts) older than WEBHOOK_LOG_DAYS, and finished, deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_LOG_DAYS)
    total = 0
    while True:
        ids = list(
            Message.objects.filter(created_at__lt=cutoff)
            .exclude(state=Message.State.PENDING)
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return total
        Message.objects.filter(pk__in=ids).delete()
        total += len(ids)


_MEMBER_KEYS = {"member", "inviter", "referrer", "friend", "referral", "user", "subject"}
_MEMBER_ID_KEYS = {f"{key}_id" for key in _MEMBER_KEYS}


def _mentions(value: Any, *, member_id: Any, phone: str | None, key: str = "") -> bool:
    """Whether an event's data names the member: their phone anywhere, their id
    under a member key (`member_id`, or `member: {"id": ...}` and the like)."""
    if isinstance(value, dict):
        if key in _MEMBER_KEYS and member_id is not None and value.get("id") == member_id:
            return True
        return any(
            _mentions(item, member_id=member_id, phone=phone, key=name)
            for name, item in value.items()
        )
    if isinstance(value, list):
        return any(_mentions(item, member_id=member_id, phone=phone, key=key) for item in value)
    if phone and value == phone:
        return True
    return member_id is not None and key in _MEMBER_ID_KEYS and value == member_id


def member_data_purge(*, data: dict[str, Any], keep_event_id: Any = None) -> int:
    """On `member.deleted`: the messages (and their attempt logs) that carry the
    member's data are deleted, except the deletion's own message, which receivers
    need; it goes with the rest of the log after WEBHOOK_LOG_DAYS."""
    member = data.get("member") if isinstance(data.get("member"), dict) else data
    member_id = member.get("id", data.get("member_id"))
    phone = member.get("phone") or data.get("phone")
    if member_id is None and not phone:
        return 0
    doomed = [
        pk
        for pk, payload in Message.objects.exclude(event_id=keep_event_id)
        .values_list("pk", "data")
        .iterator(chunk_size=2000)
        if _mentions(payload, member_id=member_id, phone=phone)
    ]
    for start in range(0, len(doomed), 1000):
        Message.objects.filter(pk__in=doomed[start : start + 1000]).delete()
    return len(doomed)


__all__ = ["EndpointRefused"]
