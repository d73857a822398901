"""Sign-in: issue a one-time code to a phone, verify it, sign the member in."""

import contextlib
import hashlib
import hmac
import logging
import math
import operator
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone

from auth_flow.devices import device_token_issue, device_token_verify
from auth_flow.errors import (
    AccountDisabled,
    ChallengeThrottled,
    CodeAttemptsExhausted,
    CodeError,
    CodeExpired,
    CodeInvalid,
    CodeNotRequested,
    CodeReplaced,
    CodeUsed,
    PhoneNotAllowed,
    SmsBudgetExhausted,
    SmsFallbackUnavailable,
    SmsUnavailable,
)
from auth_flow.messages import otp_sms_text
from auth_flow.models import Challenge
from auth_flow.sms import (
    NumberRefused,
    OutcomeUnknown,
    ProviderError,
    SendFailed,
    SendResult,
    channel_of,
    mask_phone,
    sms_send,
)
from auth_flow.sms.budgets import (
    budget_give_back,
    budget_take,
    budget_take_judge,
    budget_take_sql,
)
from auth_flow.sms.guards import phone_check
from core.admission import admission_leave
from core.db import (
    advisory_lock,
    advisory_lock_ids,
    advisory_lock_sql,
    prepared_cursor,
    release_connection,
)
from core.errors import DomainError
from core.metrics import code_requests, outcomes_counted
from core.outage import database_unavailable
from profiles.models import User
from profiles.services import member_get_or_create

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def code_hash(*, phone: str, code: str) -> str:
    """Keyed hash of a code, bound to its phone so equal codes differ in storage."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256
    ).hexdigest()


# Far longer than the tokens challenge_issue hands out; longer ones are not looked up.
CHALLENGE_TOKEN_MAX_LENGTH = 128


def challenge_token_hash(token: str) -> str:
    """Keyed hash of a challenge token: the database alone cannot answer a challenge."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"challenge:{token}".encode(), hashlib.sha256
    ).hexdigest()


@dataclass(frozen=True)
class ChallengeIssued:
    phone: str
    # The opaque token only this requester holds: verifying the code needs it.
    challenge: str
    expires_in: int
    resend_in: int
    demo_code: str | None
    # How the code went: `telegram` or `sms` (what the code screen and the API say).
    channel: str = "sms"


@outcomes_counted(code_requests, success="sent")
def challenge_issue(
    *, phone: str, ip: str, device_token: str = "", previous: str = "", by_sms: bool = False
) -> ChallengeIssued:
    """Send a new code to `phone`, within every limit; the same answer for any phone.

    The number is judged first (toll-fraud guards, no query). The code is recorded
    in one short transaction, the hour's SMS budgets are taken in another; the
    connection goes back to the pool before the slow gateway call. `device_token`
    (from an earlier sign-in to this phone) gives the request its device's own
    budget; `previous` is the requester's last challenge token. Neither is an error
    when invalid: the request is then a stranger's. Only once the new code is sent
    are the requester's own older codes voided: until then the code already on the
    member's phone keeps working. A send that fails, for any reason, leaves a
    `failed` challenge: unusable, counted for the client IP, not for the phone's
    limits, its SMS budget given back. A send whose outcome is unknown (the request
    went out, no answer before SMS_TIMEOUT) is answered like a sent one: the code
    may arrive and then works, and its budget unit stays spent.

    `by_sms` is "Send by SMS instead" for the Telegram code `previous` names: once
    per challenge, inside the resend cooldown, still within the hourly and daily
    limits, through every provider but Telegram's; the Telegram code stays valid
    until the SMS is sent.
    """
    country_code = phone_check(phone=phone)
    if by_sms:
        _sms_fallback_claim(phone=phone, previous=previous)
    code = f"{secrets.randbelow(10_000):04d}"
    # 192 random bits: the only thing that lets its holder answer this challenge.
    token = secrets.token_urlsafe(24)
    device = device_token_verify(token=device_token, phone=phone)
    try:
        # After the challenge's commit, so a throttled request never touches the budgets.
        # A valid device token draws on the device holders' budget (budgets.py).
        challenge = _challenge_create(
            phone=phone,
            ip=ip,
            code=code,
            token=token,
            device=device,
            cooldown=not by_sms,
            budget_country_code=country_code,
        )
    except ChallengeThrottled:
        if by_sms:
            _sms_fallback_release(previous=previous)
        raise
    try:
        challenge.budget_judge()
    except SmsBudgetExhausted:
        _challenge_void(pk=challenge.pk)
        if by_sms:
            _sms_fallback_release(previous=previous)
        raise
    release_connection()
    # The 1-2 s send needs no CPU: this request's turn goes to the next in line
    # (core/admission.py); what is left after the send runs without one.
    admission_leave()
    try:
        sent = sms_send(
            phone=phone,
            text=otp_sms_text(code=code),
            code=code,
            skip_channels=("telegram",) if by_sms else (),
        )
    except OutcomeUnknown as unknown:
        # The request went out, no answer in time: the code may well arrive, so the
        # send counts (its budget unit is kept) and its challenge stays answerable.
        logger.warning(
            "code send outcome unknown provider=%s phone=%s", unknown.provider, mask_phone(phone)
        )
        sent = SendResult(provider=unknown.provider, outcome_known=False)
    except SendFailed as failure:
        _delivery_failed(
            challenge=challenge, phone=phone, failure=failure, country_code=country_code
        )
        if by_sms:
            _sms_fallback_release(previous=previous)
        if isinstance(failure, NumberRefused):
            raise PhoneNotAllowed() from failure
        retry_after = getattr(failure, "retry_after", None) or settings.SMS_BREAKER_COOLOFF
        raise SmsUnavailable(math.ceil(retry_after)) from failure
    except Exception as error:
        # A bug outside any provider (the chain judges every provider's outcome) must
        # not be a 500 that leaves a pending challenge (a cooldown and a phone slot
        # for a code nobody got) and a spent SMS budget unit: it is a failed send.
        logger.exception("code not sent reason=unexpected_error phone=%s", mask_phone(phone))
        failure = ProviderError("unknown", type(error).__name__)
        _delivery_failed(
            challenge=challenge, phone=phone, failure=failure, country_code=country_code, log=False
        )
        if by_sms:
            _sms_fallback_release(previous=previous)
        raise SmsUnavailable(math.ceil(settings.SMS_BREAKER_COOLOFF)) from error
    _delivery_sent(challenge=challenge, sent=sent, device=device, previous=previous)
    return ChallengeIssued(
        phone=phone,
        challenge=token,
        expires_in=settings.OTP_TTL,
        resend_in=settings.OTP_RESEND_COOLDOWN,
        demo_code=code if sent.shows_code else None,
        channel=channel_of(sent.provider),
    )


def _sms_fallback_claim(*, phone: str, previous: str) -> None:
    """Mark the Telegram code `previous` names as sent by SMS too, or refuse: one
    statement, so two parallel clicks claim it once."""
    claimed = 0
    if previous and len(previous) <= CHALLENGE_TOKEN_MAX_LENGTH:
        claimed = Challenge.objects.filter(
            phone=phone,
            token_hash=challenge_token_hash(previous),
            state=Challenge.State.PENDING,
            expires_at__gt=timezone.now(),
            provider="telegram",
            sms_fallback_at__isnull=True,
        ).update(sms_fallback_at=timezone.now())
    if not claimed:
        raise SmsFallbackUnavailable()


def _sms_fallback_release(*, previous: str) -> None:
    # The SMS did not go out: the member may ask for it again.
    Challenge.objects.filter(token_hash=challenge_token_hash(previous)).update(sms_fallback_at=None)


@dataclass
class ChallengeCreated:
    """A challenge just recorded: what the rest of a code request needs of it (an ORM
    instance cost more CPU to build than the statements that wrote it)."""

    pk: int
    phone: str
    device: str
    created_at: datetime
    # Taking the SMS budgets, if asked for: PostgreSQL's answer (NULL when every
    # budget gave a unit) once it rode along with the insert, or None to take
    # them now (SQLite).
    budget: tuple[int, list | None] | None = None

    def budget_judge(self) -> None:
        """Raise SmsBudgetExhausted unless the budgets asked for gave their units."""
        if self.budget is None:
            return
        country_code, refusal = self.budget
        device = bool(self.device)
        if connection.vendor != "postgresql":
            budget_take(
                phone=self.phone, country_code=country_code, device=device, now=self.created_at
            )
            return
        budget_take_judge(
            refusal,
            phone=self.phone,
            country_code=country_code,
            device=device,
            now=self.created_at,
        )


def _challenge_create(
    *,
    phone: str,
    ip: str,
    code: str,
    token: str,
    device: str = "",
    cooldown: bool = True,
    budget_country_code: int | None = None,
) -> ChallengeCreated:
    """Check the requester's limits and record its code, holding the phone's and the
    IP's locks (phone before IP, always: a fixed order cannot deadlock).

    With `budget_country_code` the send's SMS budgets are taken too, once the code is
    committed (on PostgreSQL in the same round trip, its own transaction); the
    returned challenge's budget_judge() says whether they gave their units."""
    fields = {
        "phone": phone,
        "ip": ip,
        "code_hash": code_hash(phone=phone, code=code),
        "token_hash": challenge_token_hash(token),
        "device": device,
        "attempts_left": settings.OTP_MAX_ATTEMPTS,
    }
    if connection.vendor == "postgresql":
        challenge = _challenge_create_batched(
            fields=fields, cooldown=cooldown, budget_country_code=budget_country_code
        )
    else:
        challenge = _challenge_create_portable(fields=fields, cooldown=cooldown)
        if budget_country_code is not None:
            challenge.budget = (budget_country_code, None)
    logger.info("code requested phone=%s ip=%s", mask_phone(phone), ip)
    return challenge


# The statements of a code request on PostgreSQL, sent as two round trips instead of
# six (BEGIN, locks, limits | insert, COMMIT, the budgets' take): every round trip in
# a burst waits for the GIL among hundreds of threads, with the pooled connection
# checked out (measured: a burst's requests waited for one longer than for anything
# else before the send) and, before the COMMIT, the phone's and the IP's locks held.
_CHALLENGE_TABLE = Challenge._meta.db_table
# The requester's pool of codes and the IP's, newest first; tagged, since one row can
# be in both. Two index reads (phone, created_at) and (ip, created_at).
_THROTTLE_SQL = (
    f"SELECT 'phone', created_at, state FROM {_CHALLENGE_TABLE}"  # noqa: S608 - our table
    " WHERE phone = %s AND device = %s AND created_at > %s"
    f" UNION ALL SELECT 'ip', created_at, state FROM {_CHALLENGE_TABLE}"
    " WHERE ip = %s AND created_at > %s ORDER BY 2 DESC"
)
_INSERT_SQL = (
    f"INSERT INTO {_CHALLENGE_TABLE} (phone, ip, code_hash, token_hash, device,"  # noqa: S608
    " attempts_left, state, created_at, expires_at, provider, message_id, delivery, refunded)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '', '', %s, false) RETURNING id"
)


def _challenge_create_batched(
    *, fields: dict, cooldown: bool, budget_country_code: int | None
) -> ChallengeCreated:
    # Outside any transaction (a request) this opens and commits its own; inside one
    # (a test, a caller's atomic block) it runs in that one, as the portable path does.
    own = not connection.in_atomic_block
    phone, ip, device = fields["phone"], fields["ip"], fields["device"]
    # The reads look back from before the lock wait: a wider window, never a narrower
    # one. Each limit is then judged from `now`, taken once the locks are held.
    since = timezone.now()
    phone_since, ip_since = since - _throttle_lookback(cooldown=cooldown), since - HOUR
    locks = (f"challenge:phone:{phone}", f"challenge:ip:{ip}")
    # Several statements in one round trip: bound client-side, as server-side binding
    # (DB_PREPARED_STATEMENTS) sends exactly one statement per round trip.
    committed_maybe = False
    with connection.client_bound_cursor() as cursor:
        try:
            cursor.execute(
                ("BEGIN; " if own else "") + advisory_lock_sql(*locks) + "; " + _THROTTLE_SQL,
                [*advisory_lock_ids(*locks), phone, device, phone_since, ip, ip_since],
            )
            # A separate statement after the locks': its snapshot sees every code
            # committed by whoever held them before.
            while cursor.cursor.nextset():
                pass
            rows = cursor.fetchall()
            now = timezone.now()
            _throttle_judge(rows=rows, phone=phone, now=now, cooldown=cooldown)
            expires_at = now + timedelta(seconds=settings.OTP_TTL)
            sql = _INSERT_SQL + ("; COMMIT" if own else "")
            params = [phone, ip, fields["code_hash"], fields["token_hash"], device]
            params += [fields["attempts_left"], Challenge.State.PENDING, now, expires_at]
            params += [Challenge.Delivery.PENDING]
            if budget_country_code is not None:
                # After the COMMIT: the take is its own transaction (budgets.py), and a
                # failed insert never reaches it.
                take_sql, take_params = budget_take_sql(
                    phone=phone, country_code=budget_country_code, device=bool(device), now=now
                )
                sql, params = f"{sql}; {take_sql}", params + take_params
            committed_maybe = own
            cursor.execute(sql, params)
            (pk,) = cursor.fetchone()
            budget = None
            if budget_country_code is not None:
                while cursor.cursor.nextset():
                    pass
                budget = (budget_country_code, cursor.fetchone()[0])
        except BaseException:
            if own:
                # Throttled, or the database failed: end the transaction (and its
                # locks) here; a broken connection has none left to end.
                with contextlib.suppress(DatabaseError):
                    cursor.execute("ROLLBACK")
            if committed_maybe:
                # The insert may have committed before the budgets' take failed (a
                # statement timeout, say): no code goes out, so that challenge must
                # not stay pending, holding the phone in a cooldown for a code nobody
                # got. Found by its token (its id was lost with the error); an insert
                # that failed left no row to find.
                with contextlib.suppress(DatabaseError):
                    _challenge_void(token_hash=fields["token_hash"])
            raise
    return ChallengeCreated(pk=pk, phone=phone, device=device, created_at=now, budget=budget)


@transaction.atomic
def _challenge_create_portable(*, fields: dict, cooldown: bool) -> ChallengeCreated:
    phone, ip, device = fields["phone"], fields["ip"], fields["device"]
    advisory_lock(f"challenge:phone:{phone}", f"challenge:ip:{ip}")
    now = timezone.now()
    rows = (
        Challenge.objects.filter(
            Q(
                phone=phone,
                device=device,
                created_at__gt=now - _throttle_lookback(cooldown=cooldown),
            )
            | Q(ip=ip, created_at__gt=now - HOUR)
        )
        .order_by("-created_at")
        # Phones as stored text: equal E.164 strings, no parsing per row.
        .values_list(Cast("phone", CharField()), "device", "ip", "created_at", "state")
    )
    tagged = []
    for row_phone, row_device, row_ip, created_at, state in rows:
        if row_phone == phone and row_device == device:
            tagged.append(("phone", created_at, state))
        if row_ip == ip and created_at > now - HOUR:
            tagged.append(("ip", created_at, state))
    _throttle_judge(rows=tagged, phone=phone, now=now, cooldown=cooldown)
    # The requester's older codes stay valid here: if this send fails (provider
    # down, budget spent) the code already on the phone is the one it still has.
    challenge = Challenge.objects.create(
        **fields, created_at=now, expires_at=now + timedelta(seconds=settings.OTP_TTL)
    )
    return ChallengeCreated(pk=challenge.pk, phone=phone, device=device, created_at=now)


def _delivery_sent(
    *, challenge: ChallengeCreated, sent: SendResult, device: str = "", previous: str = ""
) -> None:
    """Record the send and, now that the new code is on its way, void the requester's
    older ones: the challenge it names (`previous`) and its device's."""
    mine = []
    if previous and len(previous) <= CHALLENGE_TOKEN_MAX_LENGTH:
        mine.append(Q(token_hash=challenge_token_hash(previous)))
    if device:
        mine.append(Q(device=device))
    if mine:
        # A first request names no older code: no lock, no transaction (a burst of
        # them is the load the sign-in path must carry).
        _older_codes_replace(challenge=challenge, mine=reduce(operator.or_, mine))
    # A status callback may already have moved `delivery` on: only `pending` becomes
    # `sent`. A send whose outcome is unknown stays `pending` (nobody knows yet).
    reached = Challenge.Delivery.SENT if sent.outcome_known else Challenge.Delivery.PENDING
    record = (challenge.pk, sent.provider[:32], sent.message_id, reached, timezone.now())
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # Inside a transaction (a test, a caller's atomic block) the row may be
        # uncommitted: only this connection may write it.
        _deliveries_write([record])
        return
    _delivery_records.write(record)


# One plain statement for any number of records: built by the ORM (a Case over the
# old value) one record's UPDATE was a fifth of a code request's CPU.
_DELIVERY_SQL = (
    f"UPDATE {_CHALLENGE_TABLE} AS c SET provider = r.provider, message_id = r.message_id,"  # noqa: S608
    " delivery = CASE WHEN c.delivery = %s THEN r.reached ELSE c.delivery END,"
    " delivery_updated_at = r.at"
    " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])"
    " AS r (id, provider, message_id, reached, at) WHERE c.id = r.id"
)
_DELIVERY_ONE_SQL = (
    f"UPDATE {_CHALLENGE_TABLE} SET provider = %s, message_id = %s,"  # noqa: S608
    " delivery = CASE WHEN delivery = %s THEN %s ELSE delivery END,"
    " delivery_updated_at = %s WHERE id = %s"
)


def _deliveries_write(records: list[tuple]) -> None:
    """Record sends: (challenge id, provider, message id, delivery reached, when)."""
    with prepared_cursor() as cursor:
        if len(records) == 1 or connection.vendor != "postgresql":
            for pk, provider, message_id, reached, at in records:
                cursor.execute(
                    _DELIVERY_ONE_SQL,
                    [
                        provider,
                        message_id,
                        Challenge.Delivery.PENDING,
                        reached,
                        connection.ops.adapt_datetimefield_value(at),
                        pk,
                    ],
                )
            return
        columns = [list(column) for column in zip(*records, strict=True)]
        cursor.execute(_DELIVERY_SQL, [Challenge.Delivery.PENDING, *columns])


@dataclass
class _DeliveryBatch:
    records: list = field(default_factory=list)
    done: bool = False
    # Why its statement failed, if it did.
    error: Exception | None = None


class _DeliveryRecords:
    """Group commit of a process's delivery records (PostgreSQL, outside transactions).

    Every code request that was sent records it, after its 1-2 s send: in a burst
    that was one more pooled connection checked out, one statement and one durable
    commit per request, while hundreds of threads wait for the GIL. Here the
    records of requests finishing at about the same time go in one statement: the
    first caller to find nobody writing writes every record waiting (on its own
    connection), the others wait for that statement's commit, so each caller still
    returns only once its record is committed. Records arriving meanwhile form the
    next batch, written by one of their callers as soon as the statement before
    ends. If the database cannot be reached, every caller of the batch raises that,
    and so does every caller already waiting for the next one (the outage's 503, no
    second wait for the pool); if the statement failed otherwise (a bad
    record), each caller writes its own record alone, so that error stays its own.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._collecting = _DeliveryBatch()
        self._writing = False

    def write(self, record: tuple) -> None:
        with self._changed:
            batch = self._collecting
            batch.records.append(record)
            behind = self._writing
        if behind:
            # Not while waiting for another caller's statement: that caller may hold
            # no connection (a first request gave its own back before the send), and
            # in a burst the waiting callers can hold the whole pool; it would wait
            # out the pool's timeouts and fail as an outage. Any caller's connection
            # may be given back here (it is outside a transaction).
            release_connection()
        with self._changed:
            while not batch.done and self._writing:
                self._changed.wait()
            lead = not batch.done
            if lead:
                self._writing = True
                self._collecting = _DeliveryBatch()
        if lead:
            written = False
            try:
                _deliveries_write(batch.records)
                written = True
            except Exception as error:
                batch.error = error
                if len(batch.records) == 1 or database_unavailable(error):
                    raise
            finally:
                if not written and batch.error is None:
                    # Interrupted (the worker's shutdown): the others write their own.
                    batch.error = DatabaseError("the batch's statement did not complete")
                with self._changed:
                    batch.done = True
                    self._writing = False
                    if batch.error is not None and database_unavailable(batch.error):
                        # The senders waiting meanwhile would meet the same outage
                        # after another wait for the pool: they answer it now.
                        waiting = self._collecting
                        if waiting.records:
                            waiting.error, waiting.done = batch.error, True
                            self._collecting = _DeliveryBatch()
                    self._changed.notify_all()
        error = batch.error
        if error is None:
            return
        if database_unavailable(error):
            raise type(error)(*error.args) from error
        _deliveries_write([record])


_delivery_records = _DeliveryRecords()


@transaction.atomic
def _older_codes_replace(*, challenge: ChallengeCreated, mine: Q) -> None:
    # The lock verification takes: an older code is not checked while it is being
    # replaced, and is checked against its committed state after.
    advisory_lock(f"challenge:phone:{challenge.phone}")
    # Only codes still pending: one used or locked meanwhile keeps its state (a
    # row a verification holds is re-checked once it commits). Only older ones:
    # anyone else's code, and the new one, stay answerable.
    older = Challenge.objects.filter(
        mine,
        phone=challenge.phone,
        state=Challenge.State.PENDING,
        created_at__lte=challenge.created_at,
    ).exclude(pk=challenge.pk)
    # Codes those had replaced point at the newest too: any older code of this
    # requester typed on its screen is recognised as replaced.
    Challenge.objects.filter(replaced_by__in=older.values("pk")).update(replaced_by_id=challenge.pk)
    older.update(state=Challenge.State.REPLACED, replaced_by_id=challenge.pk)


def _challenge_void(*, pk: int | None = None, token_hash: str | None = None) -> None:
    """Nothing was sent (the SMS budget is spent, or taking it failed): the code can
    never be used, and like any failed send it starts no cooldown and counts only
    for the client IP. The challenge by its id, or by its token's hash when the id
    was lost with an error."""
    found = {"pk": pk} if pk is not None else {"token_hash": token_hash}
    Challenge.objects.filter(**found, state=Challenge.State.PENDING).update(
        state=Challenge.State.FAILED,
        delivery=Challenge.Delivery.FAILED,
        delivery_updated_at=timezone.now(),
    )


@transaction.atomic
def _delivery_failed(
    *,
    challenge: ChallengeCreated,
    phone: str,
    failure: SendFailed,
    country_code: int,
    log: bool = True,
) -> None:
    """Void the challenge (nobody has its code) and give its SMS budget back."""
    Challenge.objects.filter(pk=challenge.pk, state=Challenge.State.PENDING).update(
        state=Challenge.State.FAILED
    )
    Challenge.objects.filter(pk=challenge.pk).update(
        provider=failure.provider[:32],
        delivery=Challenge.Delivery.FAILED,
        delivery_updated_at=timezone.now(),
    )
    budget_give_back(
        phone=phone,
        country_code=country_code,
        device=bool(challenge.device),
        created_at=challenge.created_at,
    )
    if not log:  # the caller logged it already, with its traceback
        return
    logger.warning(
        "code not sent reason=%s phone=%s",
        "number_refused" if isinstance(failure, NumberRefused) else "provider_failed",
        mask_phone(phone),
    )


def _throttle_lookback(*, cooldown: bool) -> timedelta:
    wait = timedelta(seconds=settings.OTP_RESEND_COOLDOWN if cooldown else 0)
    return max(DAY, wait, timedelta(seconds=settings.OTP_TTL))


def _throttle_judge(
    *, rows: list[tuple[str, datetime, str]], phone: str, now: datetime, cooldown: bool = True
) -> None:
    """Raise ChallengeThrottled if a limit of this requester's pool or IP is reached.

    `rows` are the recent codes, newest first, each tagged `phone` (the requester's
    pool, within the longest window) or `ip` (the client IP's, within the hour).
    The phone's limits count one pool: the codes of this device, or for a stranger
    (no device) the codes of every stranger. So strangers cannot use up a device's
    budget, while all of them together still get at most OTP_PHONE_DAILY codes a
    day. The IP's limit counts everyone.

    The rows need no LIMIT: a refused request records nothing, so a pool has at most
    OTP_PHONE_DAILY sent rows in its window (plus failed sends, each charged to an
    IP) and an IP at most OTP_IP_HOURLY in its hour.
    """
    wait = timedelta(seconds=settings.OTP_RESEND_COOLDOWN if cooldown else 0)
    # A code that could not be sent costs the phone nothing (no cooldown, no
    # hourly/daily slot); it still counts for the client IP that asked.
    recent = [at for tag, at, state in rows if tag == "phone" and state != Challenge.State.FAILED]
    by_ip = [at for tag, at, _state in rows if tag == "ip" and at > now - HOUR]
    # The IP's limit first: a client over it learns nothing about any phone.
    _window_check("ip_hourly_limit", by_ip, HOUR, settings.OTP_IP_HOURLY, now=now, phone=phone)
    if recent and recent[0] + wait > now:
        _throttled("resend_cooldown", recent[0] + wait - now, phone)
    _window_check(
        "phone_hourly_limit", recent, HOUR, settings.OTP_PHONE_HOURLY, now=now, phone=phone
    )
    _window_check("phone_daily_limit", recent, DAY, settings.OTP_PHONE_DAILY, now=now, phone=phone)


def _window_check(
    reason: str,
    newest_first: list[datetime],
    window: timedelta,
    limit: int,
    *,
    now: datetime,
    phone: str,
) -> None:
    # The limit-th newest code in the window decides when a slot frees up.
    if len(newest_first) >= limit and newest_first[limit - 1] > now - window:
        _throttled(reason, newest_first[limit - 1] + window - now, phone)


def _throttled(reason: str, wait: timedelta, phone: str) -> None:
    logger.warning("code limited reason=%s phone=%s", reason, mask_phone(phone))
    raise ChallengeThrottled(reason, retry_after=math.ceil(wait.total_seconds()))


@dataclass(frozen=True)
class SignIn:
    user: User
    created: bool
    # A new device token for this client: its next code request gets its own budget.
    device_token: str


def challenge_verify(*, phone: str, code: str, challenge: str, ip: str) -> SignIn:
    """Check `code` for the requester's `challenge` token; the right one signs in.

    Only the challenge the token names is looked at: a missing, unknown or
    another phone's token is refused (code_not_requested) and touches nothing,
    so nobody can spend attempts on someone else's code. A deactivated member
    is refused after the right code, before it is spent. The first sign-in
    creates the member (once).

    A wrong attempt is recorded even though the caller gets an error, so the
    error is raised only after the transaction commits.
    """
    outcome = _challenge_attempt(phone=phone, code=code, token=challenge, ip=ip)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


@transaction.atomic
def _challenge_attempt(
    *, phone: str, code: str, token: str, ip: str
) -> SignIn | CodeError | AccountDisabled:
    masked = mask_phone(phone)
    if not token or len(token) > CHALLENGE_TOKEN_MAX_LENGTH:
        logger.info("code failed reason=no_challenge phone=%s ip=%s", masked, ip)
        return CodeNotRequested()
    # The lock `_challenge_create` holds: a code being replaced right now is not
    # checked until its replacement is committed.
    advisory_lock(f"challenge:phone:{phone}")
    challenge = (
        Challenge.objects.select_for_update()
        .filter(phone=phone, token_hash=challenge_token_hash(token))
        .first()
    )
    if challenge is None:
        logger.info("code failed reason=not_requested phone=%s ip=%s", masked, ip)
        return CodeNotRequested()
    if challenge.state == Challenge.State.USED:
        logger.info("code failed reason=used phone=%s", masked)
        return CodeUsed()
    if challenge.state == Challenge.State.LOCKED:
        logger.info("code failed reason=locked phone=%s", masked)
        return CodeAttemptsExhausted()
    if challenge.state == Challenge.State.REPLACED:
        logger.info("code failed reason=replaced phone=%s", masked)
        return CodeReplaced()
    if challenge.state != Challenge.State.PENDING:
        logger.info("code failed reason=%s phone=%s", challenge.state, masked)
        return CodeNotRequested()
    now = timezone.now()
    if challenge.expires_at <= now:
        logger.info("code failed reason=expired phone=%s", masked)
        return CodeExpired()
    typed = code_hash(phone=phone, code=code)
    if not hmac.compare_digest(challenge.code_hash, typed):
        if _replaced_code(challenge=challenge, typed=typed):
            # The code of an older SMS of this requester: no guess, costs nothing.
            logger.info("code failed reason=replaced phone=%s", masked)
            return CodeReplaced()
        challenge.attempts_left -= 1
        if challenge.attempts_left <= 0:
            challenge.state = Challenge.State.LOCKED
        challenge.save(update_fields=["attempts_left", "state"])
        if challenge.state == Challenge.State.LOCKED:
            logger.warning("code locked out phone=%s", masked)
            return CodeAttemptsExhausted()
        logger.info("code failed reason=wrong phone=%s left=%d", masked, challenge.attempts_left)
        return CodeInvalid(challenge.attempts_left)
    # Refused before the code is spent: nothing about the challenge changes.
    if User.objects.filter(phone=phone, is_active=False).exists():
        logger.warning("code refused reason=account_disabled phone=%s ip=%s", masked, ip)
        return AccountDisabled()
    challenge.state = Challenge.State.USED
    challenge.used_at = now
    challenge.save(update_fields=["state", "used_at"])
    # The address of a first sign-in is a fact the staff console's fraud rules read.
    user, created = member_get_or_create(phone=phone, ip=ip)
    logger.info("code verified phone=%s ip=%s new_member=%s", masked, ip, created)
    return SignIn(user=user, created=created, device_token=device_token_issue(phone=phone))


def _replaced_code(*, challenge: Challenge, typed: str) -> bool:
    """Whether `typed` (a code hash) is that of a code `challenge` replaced."""
    older = Challenge.objects.filter(replaced_by=challenge).values_list("code_hash", flat=True)
    return any(hmac.compare_digest(stored, typed) for stored in older)


def challenges_purge(*, older_than: timedelta = DAY, batch_size: int = 5000) -> int:
    """Delete challenges past the longest limit window, in batches; returns how many."""
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        batch = list(
            Challenge.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not batch:
            return deleted
        deleted += Challenge.objects.filter(pk__in=batch).delete()[0]


# What a provider's status report means for a challenge's delivery. Reports may
# arrive out of order: an outcome (delivered, undelivered, failed) is final, and
# `sent` only moves a message that was still `pending`.
DELIVERY_FINAL = (
    Challenge.Delivery.DELIVERED,
    Challenge.Delivery.UNDELIVERED,
    Challenge.Delivery.FAILED,
    Challenge.Delivery.READ,
    Challenge.Delivery.EXPIRED,
)


def delivery_report(*, provider: str, message_id: str, status: str, refunded: bool = False) -> bool:
    """Record a provider's report on one message; False when no challenge has that id."""
    found = Challenge.objects.filter(provider=provider, message_id=message_id)
    if refunded:
        # A refund is news whatever the order of the reports (Telegram's is_refunded).
        found.filter(refunded=False).update(refunded=True)
    if status not in Challenge.Delivery.values or status == Challenge.Delivery.PENDING:
        # Intermediate states (queued, sending, accepted...) change nothing we show.
        return found.exists()
    movable = found.exclude(delivery__in=DELIVERY_FINAL)
    if status == Challenge.Delivery.READ:
        # Read follows delivered (Telegram): the one final state a final state may move to.
        movable = found.exclude(delivery__in=(Challenge.Delivery.READ, Challenge.Delivery.FAILED))
    if status == Challenge.Delivery.SENT:
        movable = movable.filter(delivery=Challenge.Delivery.PENDING)
    updated = movable.update(delivery=status, delivery_updated_at=timezone.now())
    if updated:
        logger.info("code delivery provider=%s id=%s status=%s", provider, message_id, status)
    return bool(updated) or found.exists()
