"""The benchmarks' correctness claims, small enough for every test run.

The figures live in `make bench`; here only what must hold: every request is
answered, query counts do not depend on the number of referrals, and a day of
guessing stays inside the bound.
"""

import asyncio

import pytest
from django.conf import settings
from django.db import connection

from bench.abuse import member_device_token, rotate_phones, siege
from bench.common import Server
from bench.profile import member_with_referrals, query_counts
from bench.send_code import measure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_a_burst_of_code_requests_is_all_answered_within_the_pool(
    live_server, settings, monkeypatch
):
    """Every request answered, the sends' waits overlapping beyond the pool's size (no
    connection is held through a send) and no more connections than the pool: what
    holds on any machine, however loaded. How fast is the benchmark's question."""
    import threading

    from auth_flow.sms.simulated import SimulatedBackend

    settings.OTP_SEND_DELAY = [1.5, 1.5]
    settings.OTP_PREFIX_HOURLY = 1000  # the burst's numbers are consecutive: one range
    pool = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    in_flight, most, lock = [0], [0], threading.Lock()
    send = SimulatedBackend.send

    def counted_send(self, **message):  # noqa: ANN001, ANN003, ANN202
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            return send(self, **message)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(SimulatedBackend, "send", counted_send)
    server = Server("threaded", port=int(live_server.url.rsplit(":", 1)[1]), env={})
    result = measure(server, connection.settings_dict["NAME"], requests=40, first_phone=100)
    assert result.answered == 40, result
    assert most[0] > pool, f"at most {most[0]} sends at once with a pool of {pool}"
    assert result.peak_connections <= pool, result


def test_query_counts_do_not_grow_with_referrals():
    owners = {size: member_with_referrals(size, tag) for tag, size in enumerate((0, 10, 200))}
    counts = query_counts(owners)
    assert set(counts) == {"api profile", "web profile", "unchanged poll"}
    for name, by_size in counts.items():
        assert len(set(by_size.values())) == 1, (name, by_size)


def test_a_day_of_guessing_stays_within_thirty_guesses_and_never_locks_the_member_out(
    live_server,
):
    """A stranger: its own challenges only, the phone's shared caps; the member's device
    gets a code while the stranger holds the phone at its daily limit."""
    urls = [live_server.url, live_server.url]
    phone = "+79990000001"
    result = asyncio.run(
        siege(
            urls,
            database_url(),
            phone=phone,
            max_attempts=3,
            device_token=member_device_token(phone),
        )
    )
    assert result.simulated_hours >= 24
    assert result.codes_issued == settings.OTP_PHONE_DAILY
    assert result.guesses_evaluated <= settings.OTP_PHONE_DAILY * settings.OTP_MAX_ATTEMPTS
    assert result.chance <= 0.003
    assert result.unbound_sent == 2 * result.codes_issued
    assert result.unbound_refused == result.unbound_sent
    assert result.member_status == 202
    assert result.member_attempts_left == [settings.OTP_MAX_ATTEMPTS] * 2


def test_rotating_phones_and_forged_forwarded_for_hit_the_ip_limit(live_server, settings):
    settings.OTP_IP_HOURLY = 8
    issued, refused, reasons = asyncio.run(rotate_phones([live_server.url] * 2, attempts=12))
    assert (issued, refused, reasons) == (8, 4, {"ip_hourly_limit"})


@pytest.mark.parametrize("mode", ["tree", "global"])
def test_the_activation_bench_activates_every_pair_from_two_processes(mode):
    from bench.activations import run_round, seed
    from profiles.models import User

    pairs = seed(20)
    assert run_round(database_url(), mode, 2, pairs) > 0
    activated = User.objects.filter(pk__in=[pk for pk, _ in pairs], referred_by__isnull=False)
    assert activated.count() == 20
    assert User.objects.filter(referrals_count=1).count() == 20


def test_the_scrape_bench_seeds_what_a_scrape_counts(client, settings):
    from bench.scrape import seed_grants, seed_jobs
    from tests.fakes.worker import queue_tables_clear
    from tests.scrape import scrape, value

    queue_tables_clear()
    seed_grants(500)
    seed_jobs(50)

    scraped = scrape(client, settings)
    grants = {s: value(scraped, "referral_reward_grants", state=s) for s in ("pending", "approved")}
    assert grants == {"pending": 100, "approved": 100}
    assert value(scraped, "referral_reward_grants", state="fulfilled") == 200
    assert value(scraped, "referral_queue_jobs", queue="events", status="todo") == 50
    assert value(scraped, "referral_queue_oldest_job_age_seconds", queue="events") >= 0
    queue_tables_clear()


def test_the_rewards_bench_times_activations_with_the_program_off_and_on():
    from bench.activations import seed
    from bench.rewards import program_switch, statements, timed_round
    from rewards.models import Grant

    program_switch(on=False)
    off = statements(seed(1))
    wall, cpu, _server = timed_round(seed(5))
    assert wall > 0 and cpu > 0
    assert Grant.objects.count() == 0
    program_switch(on=True)
    on = statements(seed(1))
    timed_round(seed(5))
    # The inviter's grant and the friend's, for each of the six activations with the program.
    assert Grant.objects.count() == 12
    # No statement of its own: the grants go in the statement of the activation's events.
    assert len(on) == len(off)
    assert any('INSERT INTO "rewards_grant"' in sql for sql in on)
