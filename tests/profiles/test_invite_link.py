"""A share link names the inviter (masked, limited per address) and, after sign-in,
offers their code at the top of the profile: one button, or "not now"."""

import pytest
from django.test import Client

from core.phones import phone_masked
from core.staff import PHONE_CODE_BACKEND
from profiles.models import User

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_phone_masked_keeps_the_area_code_and_the_last_two_digits():
    assert phone_masked("+79991234567") == "+7 999 ***-**-67"
    assert phone_masked("+12025550143") == "+1 202-***-**43"
    assert "1234" not in phone_masked("+79991234567")


def test_a_share_link_names_the_inviter_masked(client, make_member):
    inviter = make_member("+79997654367")
    html = client.get(f"/?invite={inviter.invite_code.lower()}").content.decode()

    assert '<span class="nowrap" data-inviter>+7 999 ***-**-67</span> invites you' in html
    assert "765-43" not in html
    assert 'data-shared-invite="found"' in html


def test_an_unknown_code_says_so(client):
    html = client.get("/?invite=ZZZZZZ").content.decode()
    assert 'data-shared-invite="not_found"' in html
    assert "This invite link does not work" in html
    assert "data-inviter" not in html


def test_share_link_lookups_are_limited_per_address(client, settings, make_member):
    settings.INVITE_LOOKUP_IP_HOURLY = 3
    inviter = make_member()
    for _ in range(3):
        client.get("/?invite=ZZZZZZ")

    html = client.get(f"/?invite={inviter.invite_code}").content.decode()

    assert 'data-shared-invite="throttled"' in html
    assert "data-inviter" not in html
    other = Client(REMOTE_ADDR="203.0.113.50")
    assert (
        'data-shared-invite="found"'
        in other.get(f"/?invite={inviter.invite_code}").content.decode()
    )


def test_the_check_while_typing_shares_the_limit(client, settings, make_member):
    settings.INVITE_LOOKUP_IP_HOURLY = 2
    member, owner = make_member(), make_member()
    client.force_login(member, backend=PHONE_CODE_BACKEND)
    Client().get("/?invite=ZZZZZZ")  # a signed-out visit from the same address
    client.get("/profile/invite/check/", {"invite_code": "ZZZZZZ"}, **HX)

    html = client.get("/profile/invite/check/", {"invite_code": owner.invite_code}, **HX)

    assert 'data-check="invite_lookups_throttled"' in html.content.decode()


def sign_in(client: Client, phone: str, outbox: list) -> None:
    client.post("/auth/phone/", {"phone": phone}, **HX)
    client.post("/auth/code/", {"code": outbox[-1].code}, **HX)


def test_after_sign_in_the_profile_offers_the_link_s_code_at_the_top(
    client, make_member, new_phone, outbox
):
    inviter = make_member("+79991230067")
    client.get(f"/?invite={inviter.invite_code}")
    sign_in(client, new_phone(), outbox)

    html = client.get("/profile/").content.decode()

    assert f'data-invite-offer="{inviter.invite_code}"' in html
    assert html.index("data-invite-offer") < html.index('id="profile-title"'), "at the top"
    assert "Join with " in html and "+7 999 ***-**-67" in html
    assert "Not now" in html


def test_one_press_on_the_offer_activates_it_without_javascript(
    client, make_member, new_phone, outbox
):
    inviter = make_member()
    client.get(f"/?invite={inviter.invite_code}")
    phone = new_phone()
    sign_in(client, phone, outbox)

    response = client.post("/profile/invite/", {"invite_code": inviter.invite_code, "offer": "1"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-offer-result="activated"' in html and "autofocus" in html
    assert f'data-activated-code="{inviter.invite_code}"' in html
    assert "data-invite-offer=" not in html
    assert User.objects.get(phone=phone).referred_by_id == inviter.pk
    inviter.refresh_from_db()
    assert inviter.referrals_count == 1


def test_the_offer_with_htmx_answers_in_its_place_and_updates_the_invite_section(
    client, make_member, new_phone, outbox
):
    inviter = make_member()
    client.get(f"/?invite={inviter.invite_code}")
    sign_in(client, new_phone(), outbox)

    response = client.post(
        "/profile/invite/", {"invite_code": inviter.invite_code, "offer": "1"}, **HX
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="invite-offer"')
    assert 'id="invite-section"' in html and 'hx-swap-oob="true"' in html


def test_not_now_forgets_the_offer(client, make_member, new_phone, outbox):
    inviter = make_member()
    client.get(f"/?invite={inviter.invite_code}")
    sign_in(client, new_phone(), outbox)

    response = client.post("/profile/invite/dismiss/")

    assert response.status_code == 302
    assert "data-invite-offer" not in client.get("/profile/").content.decode()


def test_no_offer_for_a_member_who_has_entered_a_code_or_for_their_own(
    client, make_member, new_phone, outbox
):
    member = make_member()
    client.force_login(member, backend=PHONE_CODE_BACKEND)
    assert (
        "data-invite-offer"
        not in client.get(f"/profile/?invite={member.invite_code}").content.decode()
    )


def test_referral_phones_may_be_masked_for_the_inviter(client, settings, make_member):
    from profiles.services import invite_activate

    settings.REFERRAL_PHONES = "masked"
    owner = make_member()
    friend = make_member("+79995550123")
    invite_activate(user=friend, code=owner.invite_code)
    client.force_login(owner, backend=PHONE_CODE_BACKEND)

    html = client.get("/profile/").content.decode()

    assert "+7 999 ***-**-23" in html
    assert "555-01" not in html and "+79995550123" not in html
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(owner).access_token}")
    assert api.get("/api/v1/profile/").json()["referrals"] == ["+7 999 ***-**-23"]
    page = api.get("/api/v1/profile/referrals/").json()
    assert page["results"][0]["phone"] == "+7 999 ***-**-23"


def test_share_links_for_messengers_and_mail_need_no_javascript(client, make_member):
    from urllib.parse import parse_qs, urlsplit

    member = make_member()
    client.force_login(member, backend=PHONE_CODE_BACKEND)
    html = client.get("/profile/").content.decode()

    import re

    links = dict(re.findall(r'href="([^"]+)"[^>]*data-share-app="(\w+)"', html))
    by_app = {app: href.replace("&amp;", "&") for href, app in links.items()}
    share = f"http://testserver/?invite={member.invite_code}"
    whatsapp = parse_qs(urlsplit(by_app["whatsapp"]).query)["text"][0]
    assert by_app["whatsapp"].startswith("https://wa.me/?text=") and whatsapp.endswith(share)
    assert "no password" in whatsapp, "the text gives a reason to join"
    assert parse_qs(urlsplit(by_app["telegram"]).query)["url"] == [share]
    assert parse_qs(urlsplit(by_app["email"]).query)["body"][0].endswith(share)
    # The whole link shows (it wraps): the code at its end is never cut off.
    assert f'<wbr><span class="nowrap">?invite=<strong>{member.invite_code}</strong>' in html


def test_old_lookup_windows_go_by_themselves(client):
    from datetime import timedelta

    from django.utils import timezone

    from profiles.models import LookupWindow

    old = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    LookupWindow.objects.create(bucket="invite:198.51.100.1", window_start=old, count=5)

    client.get("/?invite=ZZZZZZ")

    assert list(LookupWindow.objects.values_list("bucket", "count")) == [("invite:127.0.0.1", 1)]
