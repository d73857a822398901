"""Fraud flags from recorded facts: each rule trips on a case and stays quiet on
its near miss; the scan, review, the facts profiles record and the IP purge."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from fraud.errors import FlagVerdictInvalid
from fraud.models import FraudFlag
from fraud.rules import EVIDENCE_MAX
from fraud.services import flag_review, flags_refresh, ips_purge
from profiles.models import User
from profiles.services import invite_activate, member_get_or_create

pytestmark = pytest.mark.django_db


def flags(reason: str) -> list[FraudFlag]:
    flags_refresh()
    return list(FraudFlag.objects.filter(reason=reason))


# --- same_ip ---------------------------------------------------------------


def test_same_ip_trips_on_a_referral_from_the_inviters_ipv4_24(member_at):
    t = timezone.now() - timedelta(days=1)
    inviter = member_at(joined=t, signup_ip="198.51.100.10")
    referral = member_at(joined=t + timedelta(hours=5), signup_ip="198.51.100.77", inviter=inviter)
    [flag] = flags("same_ip")
    assert (flag.inviter, flag.subject) == (inviter, referral)
    assert {row["ip"] for row in flag.evidence} == {"198.51.100.10", "198.51.100.77"}
    assert {row["event"] for row in flag.evidence} == {"signup"}


def test_same_ip_trips_on_activation_from_the_inviters_ipv6_64(member_at):
    t = timezone.now() - timedelta(days=4)
    inviter = member_at(joined=t, signup_ip="2001:db8:1:2::1")
    member_at(
        joined=t - timedelta(days=30),
        signup_ip="192.0.2.1",
        inviter=inviter,
        activated=t + timedelta(hours=71),
        activation_ip="2001:db8:1:2:ffff::9",
    )
    [flag] = flags("same_ip")
    assert [row["event"] for row in flag.evidence] == ["activation", "signup"]


def test_same_ip_near_misses_another_24_and_after_72_hours(member_at):
    t = timezone.now() - timedelta(days=5)
    inviter = member_at(joined=t, signup_ip="198.51.100.10")
    member_at(joined=t + timedelta(hours=1), signup_ip="198.51.101.10", inviter=inviter)
    member_at(
        joined=t + timedelta(hours=73),
        signup_ip="198.51.100.10",
        inviter=inviter,
        activated=t + timedelta(hours=74),
    )
    member_at(joined=t, signup_ip="2001:db8:1:3::1", inviter=inviter)  # IPv6 vs IPv4
    assert flags("same_ip") == []


# --- burst -----------------------------------------------------------------


def test_burst_trips_on_five_activations_into_one_inviter_within_ten_minutes(member_at):
    t = timezone.now() - timedelta(hours=2)
    inviter = member_at(joined=t - timedelta(days=3))
    for n in range(5):
        member_at(
            joined=t - timedelta(days=1),
            inviter=inviter,
            activated=t + timedelta(minutes=2 * n + 0.5),
        )
    [flag] = flags("burst")
    assert flag.inviter == inviter and flag.subject is None
    assert len(flag.evidence) == 5


def test_burst_near_miss_five_activations_over_eleven_minutes(member_at):
    t = timezone.now() - timedelta(hours=2)
    inviter = member_at(joined=t - timedelta(days=3))
    for minutes in (0, 3, 6, 9, 11):
        member_at(
            joined=t - timedelta(days=1), inviter=inviter, activated=t + timedelta(minutes=minutes)
        )
    other = member_at(joined=t - timedelta(days=3))  # four into another inviter
    for n in range(4):
        member_at(joined=t - timedelta(days=1), inviter=other, activated=t + timedelta(minutes=n))
    assert flags("burst") == []


def test_burst_settings_are_read(member_at, settings):
    settings.FRAUD_BURST_COUNT = 3
    settings.FRAUD_BURST_MINUTES = 1
    t = timezone.now() - timedelta(hours=2)
    inviter = member_at(joined=t - timedelta(days=3))
    for seconds in (0, 20, 40):
        member_at(
            joined=t - timedelta(days=1), inviter=inviter, activated=t + timedelta(seconds=seconds)
        )
    assert len(flags("burst")) == 1


# --- fast_activation -------------------------------------------------------


def test_fast_activation_trips_within_30_seconds_of_the_first_sign_in(member_at):
    t = timezone.now() - timedelta(hours=1)
    inviter = member_at(joined=t - timedelta(days=1))
    quick = member_at(joined=t, inviter=inviter, activated=t + timedelta(seconds=30))
    [flag] = flags("fast_activation")
    assert (flag.inviter, flag.subject) == (inviter, quick)
    assert [row["event"] for row in flag.evidence] == ["signup", "activation"]


def test_fast_activation_near_miss_at_31_seconds(member_at):
    t = timezone.now() - timedelta(hours=1)
    inviter = member_at(joined=t - timedelta(days=1))
    member_at(joined=t, inviter=inviter, activated=t + timedelta(seconds=31))
    assert flags("fast_activation") == []


# --- sequential_phones -----------------------------------------------------


def test_sequential_phones_trips_on_three_numbers_differing_in_the_last_two_digits(member_at):
    inviter = member_at()
    for phone in ("+79995551201", "+79995551299", "+79995551250"):
        member_at(phone=phone, inviter=inviter)
    [flag] = flags("sequential_phones")
    assert [row["phone"] for row in flag.evidence] == [
        "+79995551201",
        "+79995551250",
        "+79995551299",
    ]


def test_sequential_phones_near_misses_two_numbers_and_a_third_digit_apart(member_at):
    inviter = member_at()
    for phone in ("+79995551201", "+79995551299", "+79995551301"):
        member_at(phone=phone, inviter=inviter)
    other = member_at()  # the same block, but another inviter's referral
    member_at(phone="+79995551255", inviter=other)
    assert flags("sequential_phones") == []


# --- the scan --------------------------------------------------------------


def test_a_scan_reads_only_new_activations_and_is_idempotent(member_at):
    t = timezone.now() - timedelta(hours=1)
    inviter = member_at(joined=t - timedelta(days=1))
    member_at(joined=t, inviter=inviter, activated=t + timedelta(seconds=5))
    assert flags_refresh() == 1
    assert flags_refresh() == 0  # read up to now: nothing new
    member_at(joined=timezone.now(), inviter=inviter, activated=timezone.now())
    assert flags_refresh() == 1
    assert FraudFlag.objects.count() == 2  # the first flag was not raised twice


def test_a_scan_costs_the_same_queries_for_two_or_twenty_activations(member_at):
    def scan_queries(count: int) -> int:
        t = timezone.now() - timedelta(seconds=30)
        inviter = member_at(joined=t - timedelta(days=1))
        for n in range(count):
            member_at(joined=t, inviter=inviter, activated=t + timedelta(seconds=n % 20))
        with CaptureQueriesContext(connection) as ctx:
            flags_refresh()
        FraudFlag.objects.all().delete()
        return len(ctx)

    scan_queries(1)  # creates the scan mark
    assert scan_queries(2) == scan_queries(20)


def test_reviewed_flag_reopens_on_new_evidence_but_fraud_stays(member_at, operator):
    t = timezone.now() - timedelta(hours=1)
    inviter = member_at(joined=t - timedelta(days=1))
    for phone in ("+79995551201", "+79995551202", "+79995551203"):
        member_at(phone=phone, inviter=inviter, joined=t - timedelta(minutes=30))
    [flag] = flags("sequential_phones")
    flag_review(flag=flag, status="reviewed", by=operator)
    member_at(phone="+79995551204", inviter=inviter, activated=timezone.now())
    [flag] = flags("sequential_phones")
    assert flag.status == "open" and len(flag.evidence) == 4
    flag_review(flag=flag, status="fraud", by=operator)
    member_at(phone="+79995551205", inviter=inviter, activated=timezone.now())
    [flag] = flags("sequential_phones")
    assert flag.status == "fraud" and len(flag.evidence) == 5
    assert flag.reviewed_by == operator


# --- facts recorded by profiles' services ----------------------------------


def test_first_sign_in_and_activation_record_the_ip():
    inviter, _ = member_get_or_create(phone="+79995550001", ip="198.51.100.4")
    member, created = member_get_or_create(phone="+79995550002", ip="2001:db8::5")
    again, created_again = member_get_or_create(phone="+79995550002", ip="203.0.113.9")
    member = invite_activate(user=member, code=inviter.invite_code, ip="198.51.100.5")
    member.refresh_from_db()
    assert created and not created_again
    assert inviter.signup_ip == "198.51.100.4"
    assert member.signup_ip == "2001:db8::5"  # the first sign-in, not a later one
    assert member.activation_ip == "198.51.100.5"


def test_activation_over_the_web_and_the_api_records_the_client_ip(client, make_member):
    inviter = make_member()
    member = make_member()
    client.force_login(member, backend="django.contrib.auth.backends.ModelBackend")
    client.post(
        "/profile/invite/", {"invite_code": inviter.invite_code}, REMOTE_ADDR="198.51.100.8"
    )
    member.refresh_from_db()
    assert member.activation_ip == "198.51.100.8"

    api_member = make_member()
    access = str(RefreshToken.for_user(api_member).access_token)
    response = client.post(
        "/api/v1/profile/invite/",
        {"invite_code": inviter.invite_code},
        content_type="application/json",
        headers={"Authorization": f"Bearer {access}"},
        REMOTE_ADDR="203.0.113.44",
    )
    assert response.status_code == 200
    api_member.refresh_from_db()
    assert api_member.activation_ip == "203.0.113.44"


def test_ips_older_than_the_retention_are_purged(member_at, settings):
    settings.FRAUD_IP_RETENTION_DAYS = 90
    now = timezone.now()
    inviter = member_at(joined=now - timedelta(days=100), signup_ip="198.51.100.1")
    old = member_at(
        joined=now - timedelta(days=95),
        signup_ip="198.51.100.2",
        inviter=inviter,
        activated=now - timedelta(days=95),
        activation_ip="198.51.100.2",
    )
    fresh = member_at(
        joined=now - timedelta(days=95),
        signup_ip="198.51.100.3",
        inviter=inviter,
        activated=now - timedelta(days=10),
        activation_ip="198.51.100.3",
    )
    flags_refresh()
    FraudFlag.objects.update(updated_at=now - timedelta(days=91))

    ips_purge()

    old.refresh_from_db(), fresh.refresh_from_db(), inviter.refresh_from_db()
    assert (inviter.signup_ip, old.signup_ip, old.activation_ip) == (None, None, None)
    assert (fresh.signup_ip, fresh.activation_ip) == (None, "198.51.100.3")
    for flag in FraudFlag.objects.filter(reason="same_ip"):
        assert all("ip" not in row for row in flag.evidence)
    assert ips_purge() == 0  # idempotent


def test_user_model_has_the_new_facts():
    assert {"signup_ip", "activation_ip", "suspended_at"} <= {
        f.name for f in User._meta.get_fields()
    }


def test_a_flags_evidence_is_capped_so_the_list_stays_cheap(member_at, settings):
    settings.FRAUD_BURST_COUNT = 2
    t = timezone.now() - timedelta(minutes=30)
    inviter = member_at(joined=t - timedelta(days=1))
    for n in range(EVIDENCE_MAX + 20):
        member_at(
            joined=t - timedelta(hours=1), inviter=inviter, activated=t + timedelta(seconds=n)
        )
    [flag] = flags("burst")
    assert len(flag.evidence) == EVIDENCE_MAX


def test_flag_review_accepts_only_the_two_verdicts(member_at, operator):
    t = timezone.now() - timedelta(hours=1)
    inviter = member_at(joined=t - timedelta(days=1))
    for phone in ("+79995551201", "+79995551202", "+79995551203"):
        member_at(phone=phone, inviter=inviter, joined=t - timedelta(minutes=30))
    [flag] = flags("sequential_phones")
    for verdict in ("open", "", "deleted"):
        with pytest.raises(FlagVerdictInvalid):
            flag_review(flag=flag, status=verdict, by=operator)
    flag.refresh_from_db()
    assert flag.status == "open" and flag.reviewed_by is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_scan_on_a_host_whose_clock_runs_ahead_still_judges_the_next_activation(
    make_member, monkeypatch
):
    # Activations are stamped by the database's clock. A scan that took its moment from
    # a host 5 minutes ahead moved the mark past the activation committed right after
    # it: never judged, and rewards' approvals (which wait for the mark) paid it.
    import fraud.services as fraud_services
    from fraud.selectors import judged_until

    inviter = make_member()
    invite_activate(user=make_member(), code=inviter.invite_code)
    ahead = timezone.now() + timedelta(minutes=5)
    monkeypatch.setattr(fraud_services.timezone, "now", lambda: ahead)
    assert flags_refresh() == 1
    late = invite_activate(user=make_member(), code=inviter.invite_code)
    assert judged_until() <= late.activated_at  # not judged yet, so not approvable
    assert flags_refresh() >= 1  # the next scan reads it
