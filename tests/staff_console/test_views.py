"""The console's screens: who may enter, the range's figures as a page and as an
htmx fragment, and the number of queries each costs."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.staff_console.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db


def stat(html: str, name: str) -> str:
    match = re.search(rf'data-stat="{name}"[^>]*data-value="([^"]*)"', html)
    assert match, f"no data-stat={name}"
    return match.group(1)


def test_staff_signed_in_with_password_sees_the_console(staff_client):
    response = staff_client.get("/staff/")
    assert response.status_code == 200
    assert 'data-stat="members"' in response.content.decode()


def test_member_gets_403(client, make_member):
    member = make_member()
    client.force_login(member, backend="django.contrib.auth.backends.ModelBackend")
    for url in ("/staff/", "/staff/flags/", "/staff/export.csv"):
        assert client.get(url).status_code == 403


def test_anonymous_is_sent_to_the_staff_sign_in(client):
    response = client.get("/staff/?range=30d")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/staff/")


def test_staff_signed_in_by_phone_code_only_is_sent_to_the_password_sign_in(client, operator):
    client.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_password_sign_in_through_the_admin_form_opens_the_console(client, operator):
    response = client.post(
        "/admin/login/?next=/staff/",
        {"username": str(operator.phone), "password": STAFF_PASSWORD, "next": "/staff/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_figures_for_the_range(staff_client, member_at, challenge_at, operator):
    now = timezone.now()
    inviter = member_at(joined=now - timedelta(days=40))
    member_at(joined=now - timedelta(days=2), inviter=inviter)  # new, activated
    member_at(joined=now - timedelta(days=3))  # new, not activated
    member_at(joined=now - timedelta(days=20), inviter=inviter)  # old activation
    for provider, used in (("smsru", True), ("smsru", False), ("twilio", True), ("twilio", False)):
        challenge_at(provider=provider, used=used, at=now - timedelta(hours=1))
    challenge_at(provider="twilio", at=now - timedelta(days=10))  # outside 7 days

    html = staff_client.get("/staff/?range=7d").content.decode()

    assert stat(html, "members") == "4"  # staff are not counted
    assert stat(html, "new_members") == "2"
    assert stat(html, "activations") == "1"
    assert stat(html, "activation_rate") == "0.5000"
    assert stat(html, "codes_sent") == "4"
    assert stat(html, "sign_ins") == "2"
    assert stat(html, "sign_in_conversion") == "0.5000"
    assert re.search(r'data-provider="smsru" data-value="2"', html)
    assert re.search(r'data-provider="twilio" data-value="2"', html)

    html_30 = staff_client.get("/staff/?range=30d").content.decode()
    assert stat(html_30, "new_members") == "3"
    assert stat(html_30, "activations") == "2"
    assert stat(html_30, "codes_sent") == "5"


def test_range_switch_as_an_htmx_fragment_and_as_a_full_page(staff_client):
    fragment = staff_client.get("/staff/?range=30d", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert fragment.status_code == 200
    assert body.lstrip().startswith('<section id="range-section"')
    assert 'data-range="30d"' in body
    assert "<html" not in body
    assert "HX-Request" in fragment["Vary"]

    page = staff_client.get("/staff/?range=30d")
    html = page.content.decode()
    assert "<html" in html and 'data-range="30d"' in html
    assert re.search(r'href="\?range=30d"[^>]*aria-current="page"', html)
    # Each range link pushes its URL, so the address keeps the range.
    assert 'hx-push-url="true"' in html


def test_a_history_restore_gets_the_whole_page(staff_client):
    response = staff_client.get(
        "/staff/?range=90d", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_an_unknown_range_shows_seven_days(staff_client):
    html = staff_client.get("/staff/?range=forever").content.decode()
    assert 'data-range="7d"' in html


def test_suspended_members_are_listed_apart_from_the_counts(staff_client, member_at, operator):
    from profiles.services import member_suspend

    keep = member_at()
    gone = member_at()
    member_suspend(member=gone, by=operator)

    html = staff_client.get("/staff/").content.decode()

    assert stat(html, "members") == "1"  # `keep`; staff are not counted
    assert f'data-suspended="{gone.invite_code}"' in html
    assert f'data-suspended="{keep.invite_code}"' not in html


def _queries(client, url, **headers):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, headers=headers).status_code == 200
    return len(ctx)


def test_query_counts_do_not_grow_with_members(staff_client, member_at, challenge_at):
    inviter = member_at()
    member_at(inviter=inviter)
    _queries(staff_client, "/staff/")  # judges the new activations first
    small = [
        _queries(staff_client, "/staff/"),
        _queries(staff_client, "/staff/?range=30d", **{"HX-Request": "true"}),
        _queries(staff_client, "/staff/flags/"),
    ]
    now = timezone.now()
    for n in range(30):
        top = member_at(joined=now - timedelta(days=5))
        for m in range(n % 4):
            member_at(inviter=top, joined=now - timedelta(days=2, minutes=m))
        challenge_at(provider=("smsru", "twilio", "")[n % 3], used=bool(n % 2))
    larger = [
        _queries(staff_client, "/staff/"),
        _queries(staff_client, "/staff/?range=30d", **{"HX-Request": "true"}),
        _queries(staff_client, "/staff/flags/"),
    ]
    assert small == larger


def test_console_keeps_the_content_security_policy(staff_client, member_at):
    member_at(inviter=member_at())
    response = staff_client.get("/staff/?range=30d")
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy
    # No inline style or script the policy would block; the chart is SVG markup.
    assert " style=" not in html and "<style" not in html
    assert all('nonce="' in tag for tag in re.findall(r"<script[^>]*>", html))
    assert "<svg" in html and "cdn" not in html.lower()


def test_a_page_number_past_any_range_is_not_a_500(staff_client, member_at):
    # An OFFSET out of bigint's range was a DataError (a 500).
    inviter = member_at()
    member_at(inviter=inviter)
    staff_client.raise_request_exception = False
    for page in ("99999999999999999999", "-5", "x"):
        response = staff_client.get(f"/staff/?page={page}")
        assert response.status_code == 200, page
        # Past the end shows the last page, as the referrals list does.
        assert f'data-leader="{inviter.invite_code}"' in response.content.decode(), page


def test_a_reactivated_member_is_not_listed_as_suspended(staff_client, member_at, operator):
    from profiles.services import member_suspend

    member = member_at()
    member_suspend(member=member, by=operator)
    member.refresh_from_db()
    member.is_active = True  # the admin's "active" checkbox
    member.save()

    html = staff_client.get("/staff/").content.decode()

    assert f'data-suspended="{member.invite_code}"' not in html
    assert "data-suspended-count" not in html
    assert "0 suspended, not counted" in html
    assert stat(html, "members") == "1"


def test_the_console_shows_telegram_codes_and_how_many_were_refunded(staff_client, challenge_at):
    challenge_at(provider="telegram", used=True)
    challenge_at(provider="telegram", refunded=True)
    challenge_at(provider="smsru")
    html = staff_client.get("/staff/").content.decode()
    assert re.search(r'data-provider="telegram" data-value="2"', html)
    assert re.search(r'data-stat="provider_refunded" data-provider="telegram" data-value="1"', html)
    assert 'data-stat="provider_refunded" data-provider="smsru"' not in html
