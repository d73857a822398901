"""The profile screens, as a browser and as htmx see them."""

import re

import pytest
from django.test import Client

from profiles.models import User
from profiles.services import invite_activate, referrals_recount

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_profile_when_signed_out_redirects_to_sign_in_with_next(client):
    response = client.get("/profile/")
    assert response.status_code == 302
    assert response.url.startswith("/?next=/profile/")


@pytest.mark.parametrize(
    "url", ["/profile/referrals/", "/profile/invite/check/?invite_code=ABC234"]
)
def test_member_pages_need_sign_in(client, url):
    assert client.get(url).status_code == 302


def test_profile_shows_phone_invite_code_and_share_link(signed_in, member):
    html = signed_in.get("/profile/").content.decode()
    assert str(member.phone) in html
    assert f'data-invite-code="{member.invite_code}"' in html
    assert f"/?invite={member.invite_code}" in html
    assert "data-copy=" in html
    assert 'name="invite_code"' in html


def test_profile_and_referrals_show_phones_as_people_read_them(client, make_member):
    owner = make_member("+79991234567")
    invite_activate(user=make_member("+79997654321"), code=owner.invite_code)
    client.force_login(owner)

    profile = client.get("/profile/").content.decode()
    referrals = client.get("/profile/referrals/").content.decode()

    assert '<dd class="nowrap" data-phone="+79991234567">+7 999 123-45-67</dd>' in profile
    row = '<span class="phone" data-referral-phone="+79997654321">+7 999 765-43-21</span>'
    assert row in profile
    assert row in referrals


def test_share_button_is_rendered_hidden_for_app_js_to_show_where_a_share_sheet_exists(
    signed_in, member
):
    html = signed_in.get("/profile/").content.decode()

    (button,) = re.findall(r"<button[^>]*data-share-url[^>]*>", html)
    assert f'data-share-url="http://testserver/?invite={member.invite_code}"' in button
    assert f"My code {member.invite_code} connects us:" in button
    # JavaScript off: no button that would do nothing; Copy link and the QR code remain.
    assert button.endswith(" hidden>")
    assert "onclick" not in html


def test_profile_shows_the_share_link_as_an_inline_qr_code_without_script(signed_in):
    html = signed_in.get("/profile/").content.decode()
    svg = re.search(r'<svg viewBox="[^"]+" class="qr"><title>(.+?)</title><path .+?</svg>', html)
    assert svg and svg.group(1) == "QR code of your share link"


def test_share_link_is_remembered_through_sign_in_and_prefills_the_form(
    client, make_member, new_phone, outbox
):
    friend = make_member()
    client.get(f"/?invite={friend.invite_code.lower()}")
    client.post("/auth/phone/", {"phone": new_phone()})
    client.post("/auth/code/", {"code": outbox[-1].code})
    html = client.get("/profile/").content.decode()
    assert f'value="{friend.invite_code}"' in html


def test_activation_with_htmx_returns_the_invite_section_with_the_code(
    signed_in, make_member, member
):
    friend = make_member()
    response = signed_in.post("/profile/invite/", {"invite_code": friend.invite_code}, **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.strip().startswith('<section id="invite-section"')
    assert f'data-activated-code="{friend.invite_code}"' in html
    assert 'name="invite_code"' not in html


def test_activation_without_htmx_renders_the_profile_with_the_result(signed_in, make_member):
    friend = make_member()
    response = signed_in.post("/profile/invite/", {"invite_code": friend.invite_code})
    html = response.content.decode()
    assert "<html" in html and f'data-activated-code="{friend.invite_code}"' in html


def test_profile_shows_the_activated_code_instead_of_the_form(signed_in, make_member, member):
    friend = make_member()
    invite_activate(user=member, code=friend.invite_code)
    html = signed_in.get("/profile/").content.decode()
    assert f'data-activated-code="{friend.invite_code}"' in html
    assert 'name="invite_code"' not in html


@pytest.mark.parametrize(
    ("code_of", "message"),
    [
        ("nobody", "No member has this invite code"),
        ("self", "your own invite code"),
    ],
)
def test_activation_errors_are_shown_in_the_form(signed_in, member, code_of, message):
    code = member.invite_code if code_of == "self" else "ZZZZZZ"
    response = signed_in.post("/profile/invite/", {"invite_code": code}, **HX)
    assert response.status_code == 422
    assert message in response.content.decode()


def test_cycle_and_second_activation_are_shown_in_the_form(signed_in, make_member, member):
    child = make_member()
    invite_activate(user=child, code=member.invite_code)
    response = signed_in.post("/profile/invite/", {"invite_code": child.invite_code}, **HX)
    assert "joined through you" in response.content.decode()
    invite_activate(user=member, code=make_member().invite_code)
    response = signed_in.post("/profile/invite/", {"invite_code": child.invite_code}, **HX)
    assert response.status_code == 422
    assert "already entered an invite code" in response.content.decode()


@pytest.mark.parametrize("bad", ["", "abc", "A" * 10_240, "ÄÖÜÄÖÜ", "<b>x</b>"])
def test_malformed_invite_codes_get_a_field_error(signed_in, member, bad):
    response = signed_in.post("/profile/invite/", {"invite_code": bad}, **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert 'role="alert"' in html and "<b>x</b>" not in html
    member.refresh_from_db()
    assert member.referred_by is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("ZZZZZZ", "invite_not_found"), ("own", "invite_own_code"), ("good", "ok"), ("ab", "invalid")],
)
def test_invite_check_validates_while_typing(signed_in, make_member, member, typed, expected):
    code = {"own": member.invite_code, "good": make_member().invite_code}.get(typed, typed)
    response = signed_in.get("/profile/invite/check/", {"invite_code": code}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'data-check="{expected}"' in html
    member.refresh_from_db()
    assert member.referred_by is None


def test_invite_check_says_nothing_for_an_empty_field(signed_in):
    html = signed_in.get("/profile/invite/check/", {"invite_code": ""}, **HX).content.decode()
    assert 'data-check=""' in html


def test_referrals_page_without_htmx_is_a_full_page(signed_in):
    html = signed_in.get("/profile/referrals/").content.decode()
    assert "<html" in html and 'id="referrals"' in html


def test_referrals_poll_returns_the_list_then_no_body_until_something_changes(
    signed_in, make_member, member
):
    first = signed_in.get("/profile/referrals/", **HX)
    html = first.content.decode()
    assert first.status_code == 200 and "<html" not in html
    version = re.search(r"\?v=([^\"]+)\"", html).group(1)
    assert 'hx-trigger="every 5s"' in html

    unchanged = signed_in.get(f"/profile/referrals/?v={version}", **HX)
    assert unchanged.status_code == 204 and unchanged.content == b""

    newcomer = make_member()
    invite_activate(user=newcomer, code=member.invite_code)
    changed = signed_in.get(f"/profile/referrals/?v={version}", **HX)
    assert changed.status_code == 200
    assert str(newcomer.phone) in changed.content.decode()
    assert 'id="referrals-announcer" hx-swap-oob="innerHTML"' in changed.content.decode()
    assert "A new member joined with your code. Total: 1." in changed.content.decode()
    assert "hx-swap-oob" not in html


def test_show_more_returns_the_next_rows(signed_in, member, new_phone):
    from tests.profiles.test_selectors import add_referrals

    add_referrals(member, 60, new_phone)
    html = signed_in.get("/profile/").content.decode()
    assert html.count("data-referral-phone") == 50 and "?page=2" in html
    more = signed_in.get("/profile/referrals/?page=2", **HX).content.decode()
    assert more.count("data-referral-phone") == 10 and "<section" not in more


def test_referral_phone_is_escaped_on_the_page(signed_in, member):
    # A phone can only be stored valid, so forge the row to prove the template escapes.
    User.objects.create(phone="+79990000001", invite_code="XSSAAA")
    User.objects.filter(invite_code="XSSAAA").update(
        phone="<script>alert(1)</script>", referred_by=member, activated_at="2026-01-01T00:00Z"
    )
    referrals_recount()
    html = signed_in.get("/profile/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_profile_post_without_csrf_token_is_403(member):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    assert strict.post("/profile/invite/", {"invite_code": "ABC234"}).status_code == 403


def test_signed_out_htmx_request_sends_the_browser_to_sign_in(client):
    response = client.get(
        "/profile/referrals/?v=0-0",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/profile/",
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/?next=/profile/"
    assert b"<html" not in response.content


# --- The share link's code waits in a signed cookie, not a session row ---


def test_share_links_opened_without_cookies_write_no_session_rows(client, make_member):
    from django.contrib.sessions.models import Session

    friend = make_member()
    for _ in range(20):
        client.cookies.clear()
        response = client.get(f"/?invite={friend.invite_code}")
        assert response.status_code == 200

    assert Session.objects.count() == 0
    cookie = response.cookies["pending_invite"]
    assert cookie.value.startswith(f"{friend.invite_code}:")  # signed
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_a_forged_pending_invite_cookie_is_ignored(client, make_member, new_phone, outbox):
    client.cookies["pending_invite"] = "ABC234"  # no signature
    client.post("/auth/phone/", {"phone": new_phone()})
    client.post("/auth/code/", {"code": outbox[-1].code})

    html = client.get("/profile/").content.decode()

    assert 'value="ABC234"' not in html


def test_the_pending_invite_is_forgotten_once_activated(client, make_member, new_phone, outbox):
    friend = make_member()
    client.get(f"/?invite={friend.invite_code}")
    client.post("/auth/phone/", {"phone": new_phone()})
    client.post("/auth/code/", {"code": outbox[-1].code})

    response = client.post("/profile/invite/", {"invite_code": friend.invite_code})

    assert response.status_code == 200
    assert response.cookies["pending_invite"]["max-age"] == 0


def test_an_unchanged_referrals_list_is_not_modified_for_its_etag(signed_in, make_member, member):
    first = signed_in.get("/profile/referrals/")
    etag = first["ETag"]
    assert first.status_code == 200 and "private" in first["Cache-Control"]
    assert "HX-Request" in first["Vary"]

    unchanged = signed_in.get("/profile/referrals/", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""

    newcomer = make_member()
    invite_activate(user=newcomer, code=member.invite_code)
    changed = signed_in.get("/profile/referrals/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert str(newcomer.phone) in changed.content.decode()
    assert 'data-referrals-count="1"' in changed.content.decode()


def test_the_etag_differs_for_the_fragment_another_language_and_another_member(
    signed_in, make_member
):
    page = signed_in.get("/profile/referrals/")["ETag"]
    fragment = signed_in.get("/profile/referrals/", **HX)["ETag"]
    russian = signed_in.get("/profile/referrals/", HTTP_ACCEPT_LANGUAGE="ru")["ETag"]
    other = Client()
    other.force_login(make_member())
    theirs = other.get("/profile/referrals/", headers={"If-None-Match": page})
    assert len({page, fragment, russian, theirs["ETag"]}) == 4
    assert theirs.status_code == 200


def test_a_referral_who_leaves_shows_at_the_next_poll(signed_in, make_member, member):
    leaving = make_member()
    invite_activate(user=leaving, code=member.invite_code)
    html = signed_in.get("/profile/referrals/", **HX).content.decode()
    version = re.search(r"\?v=([^\"]+)\"", html).group(1)
    leaving.delete()
    changed = signed_in.get(f"/profile/referrals/?v={version}", **HX)
    assert changed.status_code == 200
    assert 'data-referrals-count="0"' in changed.content.decode()
    assert str(leaving.phone) not in changed.content.decode()


def test_a_referral_who_leaves_shows_at_the_next_poll_with_a_shared_cache(
    shared_cache, signed_in, make_member, member
):
    test_a_referral_who_leaves_shows_at_the_next_poll(signed_in, make_member, member)


@pytest.mark.parametrize("path", ["/", "/profile/"])
def test_share_link_with_letters_outside_latin_1_is_served_and_not_remembered(client, member, path):
    # gunicorn refuses a header that is not Latin-1 with a 500.
    if path == "/profile/":
        client.force_login(member)
    response = client.get(f"{path}?invite=ЖЖЖ234")

    assert response.status_code in (200, 302)
    response.cookies.output().encode("latin-1")
    assert "pending_invite" not in response.cookies


def test_share_link_in_cyrillic_look_alikes_is_remembered_as_the_latin_code(client):
    response = client.get("/?invite=АВС234")  # Cyrillic А, В, С

    assert response.status_code == 200
    assert response.cookies["pending_invite"].value.startswith("ABC234:")


@pytest.mark.parametrize("page", ["\x01", "\x1f", "\x7f", "\r\n", "1\r\nX-Evil: 1", '"'])
def test_a_page_number_with_control_characters_gets_a_page_and_a_header_safe_etag(signed_in, page):
    response = signed_in.get("/profile/referrals/", {"page": page})
    assert response.status_code == 200
    # gunicorn refuses a header with a control character: it would be a 500.
    assert re.fullmatch(r'"[\x21-\x7e]*"', response["ETag"]), response["ETag"]
