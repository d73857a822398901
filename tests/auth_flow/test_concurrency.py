"""Parallel requests on PostgreSQL: real threads, each on its own connection."""

import pytest
from django.conf import settings

from auth_flow.errors import ChallengeThrottled, CodeInvalid, CodeUsed
from auth_flow.models import Challenge
from auth_flow.services import SignIn, challenge_issue, challenge_verify
from profiles.models import User
from tests.conftest import run_in_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True, params=["direct", "pgbouncer"])
def database_route(request):
    """Each race runs twice: straight to PostgreSQL, and through PgBouncer in
    transaction mode (a code request sends BEGIN and COMMIT in multi-statement
    messages, and the budget take is a function call: both must hold through it)."""
    if request.param == "pgbouncer":
        request.getfixturevalue("through_pgbouncer")
    return request.param


def test_one_code_submitted_twenty_times_signs_in_once_and_makes_one_user(new_phone, outbox):
    phone = new_phone()
    token = challenge_issue(phone=phone, ip="203.0.113.1").challenge
    code = outbox[-1].code

    results = run_in_parallel(
        [lambda: challenge_verify(phone=phone, code=code, challenge=token, ip="203.0.113.1")] * 20
    )

    sign_ins = [r for r in results if isinstance(r, SignIn)]
    assert len(sign_ins) == 1, results
    assert all(isinstance(r, CodeUsed) for r in results if not isinstance(r, SignIn)), results
    assert User.objects.filter(phone=phone).count() == 1


def test_parallel_first_sign_ins_of_one_phone_make_one_user(new_phone):
    from profiles.services import member_get_or_create

    phone = new_phone()
    results = run_in_parallel([lambda: member_get_or_create(phone=phone)] * 10)
    assert all(not isinstance(r, Exception) for r in results), results
    assert sum(created for _, created in results) == 1
    assert User.objects.filter(phone=phone).count() == 1


def test_parallel_code_requests_for_one_phone_send_one_code(new_phone, outbox):
    phone = new_phone()
    results = run_in_parallel([lambda: challenge_issue(phone=phone, ip="203.0.113.2")] * 10)
    throttled = [r for r in results if isinstance(r, ChallengeThrottled)]
    assert len(throttled) == 9, results
    assert Challenge.objects.filter(phone=phone).count() == 1


def test_parallel_requests_from_one_ip_respect_its_hourly_limit(new_phone, outbox, settings):
    settings.OTP_IP_HOURLY = 5
    phones = [new_phone() for _ in range(12)]
    run_in_parallel([lambda p=p: challenge_issue(phone=p, ip="203.0.113.3") for p in phones])
    assert Challenge.objects.filter(ip="203.0.113.3").count() == 5


def test_a_code_being_replaced_cannot_sign_in_meanwhile(new_phone, outbox, age_challenges):
    import time

    from django.db import transaction

    from auth_flow.services import _challenge_create, _delivery_sent
    from auth_flow.sms import SendResult

    phone = new_phone()
    old_token = challenge_issue(phone=phone, ip="203.0.113.4").challenge
    old_code = outbox[-1].code
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    new = _challenge_create(
        phone=phone,
        ip="203.0.113.4",
        code=f"{(int(old_code) + 1) % 10000:04d}",
        token="the-new-challenge",
    )

    def replace_slowly() -> None:
        # The new code was sent: its requester's older code is voided under the lock.
        with transaction.atomic():
            _delivery_sent(challenge=new, sent=SendResult(provider="locmem"), previous=old_token)
            time.sleep(0.8)

    def verify_old_code_meanwhile():  # noqa: ANN202
        time.sleep(0.3)
        return challenge_verify(phone=phone, code=old_code, challenge=old_token, ip="203.0.113.4")

    _, verdict = run_in_parallel([replace_slowly, verify_old_code_meanwhile])

    assert not isinstance(verdict, SignIn), verdict
    assert not User.objects.filter(phone=phone).exists()


def test_the_old_code_signs_in_while_its_replacement_is_being_sent(
    new_phone, outbox, age_challenges
):
    import time

    from auth_flow.services import _challenge_create

    phone = new_phone()
    old_token = challenge_issue(phone=phone, ip="203.0.113.8").challenge
    old_code = outbox[-1].code
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)

    def resend_not_yet_sent() -> None:
        # Recorded and committed; the gateway call is still under way.
        _challenge_create(phone=phone, ip="203.0.113.8", code="0000", token="on-its-way")
        time.sleep(0.5)

    def verify_old_code_meanwhile():  # noqa: ANN202
        time.sleep(0.2)
        return challenge_verify(phone=phone, code=old_code, challenge=old_token, ip="203.0.113.8")

    _, verdict = run_in_parallel([resend_not_yet_sent, verify_old_code_meanwhile])

    assert isinstance(verdict, SignIn), verdict


def test_a_strangers_parallel_guesses_spend_only_its_own_attempts(
    new_phone, outbox, age_challenges
):
    phone = new_phone()
    member_token = challenge_issue(phone=phone, ip="203.0.113.5").challenge
    member_code = outbox[-1].code
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    stranger_token = challenge_issue(phone=phone, ip="198.51.100.5").challenge
    # Wrong for both codes: the stranger never guesses right here.
    right = {member_code, outbox[-1].code}
    guesses = [
        g for n in range(1, 23) if (g := f"{(int(member_code) + n) % 10000:04d}") not in right
    ]
    guesses = guesses[:20]

    results = run_in_parallel(
        [
            lambda guess=guess, token=token: challenge_verify(
                phone=phone, code=guess, challenge=token, ip="198.51.100.5"
            )
            for guess in guesses
            for token in (stranger_token, "", "forged")
        ]
    )

    assert sum(isinstance(r, CodeInvalid) for r in results) == settings.OTP_MAX_ATTEMPTS - 1
    assert not any(isinstance(r, SignIn) for r in results)
    member = Challenge.objects.get(phone=phone, ip="203.0.113.5")
    assert member.attempts_left == settings.OTP_MAX_ATTEMPTS
    signed_in = challenge_verify(
        phone=phone, code=member_code, challenge=member_token, ip="203.0.113.5"
    )
    assert signed_in.created


def test_a_burst_of_strangers_and_the_members_device_each_get_one_code(new_phone, outbox):
    from auth_flow.devices import device_token_issue

    phone = new_phone()
    device_token = device_token_issue(phone=phone)
    results = run_in_parallel(
        [lambda n=n: challenge_issue(phone=phone, ip=f"198.51.100.{n}") for n in range(1, 11)]
        + [lambda: challenge_issue(phone=phone, ip="203.0.113.6", device_token=device_token)] * 3
    )
    strangers, device = results[:10], results[10:]
    assert sum(not isinstance(r, Exception) for r in strangers) == 1, strangers
    assert sum(not isinstance(r, Exception) for r in device) == 1, device
    assert all(isinstance(r, ChallengeThrottled) for r in results if isinstance(r, Exception))
    assert Challenge.objects.filter(phone=phone).count() == 2


def test_settings_module_uses_the_connection_pool():
    from django.db import connection

    assert settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"] >= 1
    connection.ensure_connection()  # a connection from the pool, by either route
    assert connection.pool is not None


def test_parallel_takes_of_the_sharded_global_budget_stop_exactly_at_its_limits(settings):
    """Strangers and device holders at once, from many connections: strangers never
    pass OTP_GLOBAL_HOURLY - OTP_DEVICE_HOURLY, everyone never passes OTP_GLOBAL_HOURLY,
    and no shard passes its share, whichever shard each take started at."""
    from django.utils import timezone

    from auth_flow.errors import SmsBudgetExhausted
    from auth_flow.models import SendBudget
    from auth_flow.sms.budgets import budget_take, shard_limits

    settings.OTP_GLOBAL_SHARDS = 4
    settings.OTP_GLOBAL_HOURLY = 13
    settings.OTP_DEVICE_HOURLY = 5
    settings.OTP_REGION_HOURLY = settings.OTP_PREFIX_HOURLY = 1000
    now = timezone.now()

    def take(device: bool):  # noqa: ANN202
        return lambda: budget_take(phone="+79990000000", country_code=7, device=device, now=now)

    # The hour's first takes race to make its rows: none is refused for it.
    settings.OTP_GLOBAL_HOURLY, settings.OTP_DEVICE_HOURLY = 1000, 0
    assert run_in_parallel([take(False) for _ in range(20)]) == [None] * 20
    SendBudget.objects.all().delete()
    settings.OTP_GLOBAL_HOURLY, settings.OTP_DEVICE_HOURLY = 13, 5
    strangers = run_in_parallel([take(False) for _ in range(20)])
    members = run_in_parallel([take(True) for _ in range(20)])

    assert sum(r is None for r in strangers) == 8, strangers
    assert all(isinstance(r, SmsBudgetExhausted) for r in strangers if r is not None), strangers
    assert sum(r is None for r in members) == 13 - 8, members
    rows = SendBudget.objects.filter(key__startswith="global:")
    used = dict(rows.values_list("key", "used"))
    assert sum(used.values()) == 13
    limits = dict(zip([f"global:{i}" for i in range(4)], shard_limits(13), strict=True))
    assert all(used[key] <= limits[key] for key in used), used
    # The strangers' units were taken from the country once each, the refused gave theirs back.
    assert SendBudget.objects.get(key="cc:7").used == 8


def test_a_global_limit_lowered_within_the_hour_holds_under_parallel_takes(settings):
    """Shards filled under the old limit may each hold more than their new share:
    the sum decides then, taking turns, and never passes the new limit."""
    from django.utils import timezone

    from auth_flow.models import SendBudget
    from auth_flow.sms.budgets import budget_take, window_start

    settings.OTP_GLOBAL_SHARDS = 4
    settings.OTP_DEVICE_HOURLY = 0
    settings.OTP_REGION_HOURLY = settings.OTP_PREFIX_HOURLY = 1000
    now = timezone.now()

    def take():  # noqa: ANN202
        return budget_take(phone="+79990000000", country_code=7, device=True, now=now)

    # Six codes of the hour, all in one shard (as the old limit's shares allowed).
    SendBudget.objects.create(key="global:0", window_start=window_start(now), used=6)
    SendBudget.objects.create(key="global:1", window_start=window_start(now), used=0)
    settings.OTP_GLOBAL_HOURLY = 10  # shares 3, 3, 2, 2: global:0 is over its own

    results = run_in_parallel([take for _ in range(12)])

    assert sum(r is None for r in results) == 4, results
    shards = SendBudget.objects.filter(key__startswith="global:")
    assert sum(shards.values_list("used", flat=True)) == 10
