"""The sign-in screens, as a browser and as htmx see them."""

import re

import pytest
from django.conf import settings
from django.test import Client

from auth_flow.models import Challenge
from profiles.models import User

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def ask_code(client: Client, phone: str, outbox: list, **headers) -> str:
    response = client.post("/auth/phone/", {"phone": phone}, **headers)
    assert response.status_code == (200 if headers else 303), response.content
    return outbox[-1].code


def test_sign_in_page_shows_the_phone_form(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert 'name="phone"' in html and '<label for="id_phone"' in html
    assert "htmx" in html
    assert 'hx-indicator="#phone-sending"' in html


def test_pages_send_a_content_security_policy_with_a_nonce(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "default-src 'self'" in policy


def test_phone_submit_without_htmx_goes_to_the_code_screen_s_own_address(client, new_phone, outbox):
    response = client.post("/auth/phone/", {"phone": new_phone()})
    assert response.status_code == 303 and response["Location"] == "/auth/code/"

    # What a reload, the language switch or Back-then-Forward fetch: the same screen.
    html = client.get("/auth/code/").content.decode()
    assert "<html" in html and 'name="code"' in html
    assert "Change number" in html
    assert 'data-countdown="60"' in html or 'data-countdown="59"' in html
    assert 'data-expires="300"' in html or 'data-expires="299"' in html
    # JavaScript off: the same figures, written by the server.
    assert re.search(r"available in (60|59) s", html)
    assert re.search(r"The code works for another (5:00|4:59)\.", html)
    assert 'name="next" type="hidden" value="/auth/code/"' in html


@pytest.mark.parametrize("language", ["en", "ru"])
def test_code_page_names_the_phone_as_people_read_it(client, outbox, language):
    response = client.post(
        "/auth/phone/", {"phone": "8 (999) 123-45-67"}, HTTP_ACCEPT_LANGUAGE=language, follow=True
    )
    html = response.content.decode()

    assert '<strong class="nowrap">+7 999 123-45-67</strong>' in html
    # The resend form posts it back as stored.
    assert '<input type="hidden" name="phone" value="+79991234567">' in html


def test_phone_submit_with_htmx_returns_only_the_code_fragment(client, new_phone, outbox):
    response = client.post("/auth/phone/", {"phone": new_phone()}, **HX)
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section id="auth-card"')
    assert 'name="code"' in html


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("+7 999 123-45-67", "+79991234567"),
        ("8 (999) 123-45-67", "+79991234567"),
        ("+1 202-555-0143", "+12025550143"),
    ],
)
def test_phone_formats_are_accepted_and_stored_as_e164(client, outbox, raw, stored):
    client.post("/auth/phone/", {"phone": raw})
    assert Challenge.objects.get().phone == stored
    assert outbox[-1].phone == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "hello",
        "12",
        "+7 999 123-45-67-89-00",
        "x" * 10_240,
        "٣٣٣٣",
        "<script>",
    ],
)
def test_malformed_phone_gets_a_field_error_with_an_example(client, outbox, bad):
    response = client.post("/auth/phone/", {"phone": bad}, **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "+7 999 123-45-67" in html and "Enter a valid phone number" in html
    assert "<script>" not in html
    assert outbox == []


def test_demo_backend_shows_the_code_on_the_page(client, new_phone, settings):
    settings.SMS_BACKEND = "demo"
    settings.DEMO_MODE = True  # the demo backend shows codes only in demo mode (or DEBUG)
    response = client.post("/auth/phone/", {"phone": new_phone()}, follow=True)
    assert re.search(r'data-demo-code="\d{4}"', response.content.decode())


def test_other_backends_do_not_show_the_code(client, new_phone, outbox):
    response = client.post("/auth/phone/", {"phone": new_phone()}, follow=True)
    assert "data-demo-code" not in response.content.decode()
    assert outbox[-1].code not in re.sub(
        r"csrfmiddlewaretoken\" value=\"[^\"]+", "", response.content.decode()
    )


def test_over_the_limit_is_429_with_retry_after_and_a_message(client, new_phone, outbox):
    phone = new_phone()
    ask_code(client, phone, outbox)
    # Another browser: this one would be shown its own pending code instead.
    response = Client().post("/auth/phone/", {"phone": phone}, **HX)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "You can ask for a new one in" in response.content.decode()


def test_resend_too_early_keeps_the_code_form(client, new_phone, outbox):
    phone = new_phone()
    ask_code(client, phone, outbox)
    response = client.post("/auth/phone/", {"phone": phone, "resend": "1"}, **HX)
    html = response.content.decode()
    assert response.status_code == 429
    assert 'name="code"' in html and "You can ask for a new one in" in html


def test_right_code_with_htmx_redirects_to_the_profile(client, new_phone, outbox):
    code = ask_code(client, new_phone(), outbox, **HX)
    response = client.post("/auth/code/", {"code": code}, **HX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/profile/"
    assert client.get("/profile/").status_code == 200


def test_right_code_without_htmx_is_a_302_to_the_profile(client, new_phone, outbox):
    code = ask_code(client, new_phone(), outbox)
    response = client.post("/auth/code/", {"code": code})
    assert response.status_code == 302 and response.url == "/profile/"


def test_wrong_code_shows_attempts_left_in_an_announced_error(client, new_phone, outbox):
    code = ask_code(client, new_phone(), outbox)
    response = client.post("/auth/code/", {"code": f"{(int(code) + 1) % 10000:04d}"}, **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in html
    assert "2 attempts left" in html
    assert 'role="alert"' in html


@pytest.mark.parametrize("bad", ["", "abc", "12345", "12", "٣٣٣٣", "9" * 10_240])
def test_malformed_code_gets_a_field_error(client, new_phone, outbox, bad):
    ask_code(client, new_phone(), outbox)
    response = client.post("/auth/code/", {"code": bad})
    assert response.status_code == 422
    assert "4 digits" in response.content.decode() or "4-digit" in response.content.decode()
    assert Challenge.objects.get().attempts_left == settings.OTP_MAX_ATTEMPTS


def test_code_without_a_phone_in_the_session_goes_back_to_the_start(client):
    response = client.post("/auth/code/", {"code": "1234"})
    assert response.status_code == 302 and response.url == "/"


def test_next_survives_sign_in(client, new_phone, outbox):
    client.get("/?next=/profile/referrals/")
    code = ask_code(client, new_phone(), outbox)
    assert client.post("/auth/code/", {"code": code}).url == "/profile/referrals/"


def test_next_to_another_host_is_ignored(client, new_phone, outbox):
    client.get("/?next=https://evil.example/")
    code = ask_code(client, new_phone(), outbox)
    assert client.post("/auth/code/", {"code": code}).url == "/profile/"


def test_a_signed_out_visitor_sent_to_sign_in_writes_no_session_row(client):
    from django.contrib.sessions.models import Session

    for _ in range(5):
        Client().get("/?next=/profile/referrals/")
    assert Session.objects.count() == 0


def test_next_with_letters_outside_latin_1_is_served_and_survives_sign_in(
    client, new_phone, outbox
):
    # gunicorn refuses a header that is not Latin-1 with a 500.
    response = client.get("/?next=/profile/referrals/?from=рассылка")
    response.cookies.output().encode("latin-1")
    code = ask_code(client, new_phone(), outbox)
    landed = client.post("/auth/code/", {"code": code}).url
    assert landed == "/profile/referrals/?from=%D1%80%D0%B0%D1%81%D1%81%D1%8B%D0%BB%D0%BA%D0%B0"


def test_a_forged_next_cookie_is_ignored(client, new_phone, outbox):
    client.cookies["sign_in_next"] = "https://evil.example/"  # unsigned
    code = ask_code(client, new_phone(), outbox)
    assert client.post("/auth/code/", {"code": code}).url == "/profile/"


def test_post_without_csrf_token_is_403(new_phone):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/auth/phone/", {"phone": new_phone()}).status_code == 403
    assert strict.post("/auth/code/", {"code": "1234"}).status_code == 403
    assert strict.post("/auth/logout/").status_code == 403


def test_htmx_post_with_the_csrf_header_is_accepted(new_phone, outbox):
    strict = Client(enforce_csrf_checks=True)
    html = strict.get("/").content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    response = strict.post("/auth/phone/", {"phone": new_phone()}, HTTP_X_CSRFTOKEN=token, **HX)
    assert response.status_code == 200


def test_sign_out_redirects_home_and_ends_the_session(client, make_member):
    client.force_login(make_member())
    response = client.post("/auth/logout/", **HX)
    assert response.headers["HX-Redirect"] == "/"
    assert client.get("/profile/").status_code == 302
    client.force_login(User.objects.first())
    assert client.post("/auth/logout/").url == "/"


def test_signed_in_member_visiting_the_start_goes_to_the_profile(client, make_member):
    client.force_login(make_member())
    assert client.get("/").url == "/profile/"


# Guesses bound to the browser, device cookies, disabled members


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


def stranger(index: int = 1) -> Client:
    return Client(REMOTE_ADDR=f"198.51.100.{index}")


def fill_the_phones_day(phone: str, age_challenges) -> None:
    """Strangers, each in a browser of their own, ask for every code the phone's day allows."""
    for index in range(settings.OTP_PHONE_DAILY):
        age_challenges(phone, 3600 / settings.OTP_PHONE_HOURLY * 1.01)
        if stranger(index + 1).post("/auth/phone/", {"phone": phone}).status_code == 429:
            return
    age_challenges(phone, 3600)


def test_a_strangers_wrong_guesses_do_not_void_the_members_code(
    client, new_phone, outbox, age_challenges
):
    phone = new_phone()
    code = ask_code(client, phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    other = stranger()
    ask_code(other, phone, outbox)
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        other.post("/auth/code/", {"code": wrong(code)})
    locked = other.post("/auth/code/", {"code": code})
    assert locked.status_code == 422 and "Too many wrong attempts" in locked.content.decode()

    response = client.post("/auth/code/", {"code": code})
    assert response.status_code == 302 and response.url == "/profile/"


def test_a_session_without_a_challenge_cannot_guess(client, new_phone, outbox):
    phone = new_phone()
    ask_code(client, phone, outbox)
    # A phone put in a session by hand, without the challenge a code request leaves there.
    other = stranger()
    session = other.session
    session["auth_flow.phone"] = phone
    session.save()
    response = other.post("/auth/code/", {"code": outbox[-1].code})
    assert response.status_code == 422
    assert "There is no active code" in response.content.decode()
    assert Challenge.objects.get().attempts_left == settings.OTP_MAX_ATTEMPTS


def test_a_resend_voids_this_browsers_older_code_only(client, new_phone, outbox, age_challenges):
    phone = new_phone()
    ask_code(client, phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    other = stranger()
    theirs = ask_code(other, phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    response = client.post("/auth/phone/", {"phone": phone, "resend": "1"})
    assert response.status_code == 303
    replaced = Challenge.objects.get(state=Challenge.State.REPLACED)
    assert replaced == Challenge.objects.order_by("created_at").first()
    assert client.post("/auth/code/", {"code": outbox[-1].code}).status_code == 302
    assert other.post("/auth/code/", {"code": theirs}).status_code == 302


def test_sign_in_sets_a_long_lived_http_only_device_cookie(client, new_phone, outbox):
    code = ask_code(client, new_phone(), outbox)
    cookie = client.post("/auth/code/", {"code": code}).cookies["device"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 3600
    assert cookie["secure"]  # DEBUG is off, as in production


def test_device_cookie_is_not_secure_in_development(client, new_phone, outbox, settings):
    settings.DEBUG = True
    code = ask_code(client, new_phone(), outbox)
    assert not client.post("/auth/code/", {"code": code}).cookies["device"]["secure"]


def test_a_known_browser_gets_a_code_while_strangers_hold_the_phone_at_its_limit(
    client, new_phone, outbox, age_challenges
):
    phone = new_phone()
    client.post("/auth/code/", {"code": ask_code(client, phone, outbox)})
    client.post("/auth/logout/")
    fill_the_phones_day(phone, age_challenges)
    refused = stranger(200).post("/auth/phone/", {"phone": phone})
    assert refused.status_code == 429 and "today" in refused.content.decode()

    code = ask_code(client, phone, outbox)
    assert client.post("/auth/code/", {"code": code}).url == "/profile/"


def test_a_forged_device_cookie_is_a_stranger(client, new_phone, outbox, age_challenges):
    phone = new_phone()
    fill_the_phones_day(phone, age_challenges)
    client.cookies["device"] = "forged:cookie"
    assert client.post("/auth/phone/", {"phone": phone}).status_code == 429


def test_a_disabled_member_sees_why_on_the_code_form_and_the_code_stays(
    client, make_member, outbox
):
    member = make_member()
    User.objects.filter(pk=member.pk).update(is_active=False)
    code = ask_code(client, str(member.phone), outbox)
    response = client.post("/auth/code/", {"code": code}, **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "This account is disabled" in html and 'role="alert"' in html
    assert "device" not in response.cookies
    assert client.get("/profile/").status_code == 302
    assert Challenge.objects.get().state == Challenge.State.PENDING


def test_the_resend_countdown_is_the_known_browsers_own(client, new_phone, outbox, age_challenges):
    phone = new_phone()
    client.post("/auth/code/", {"code": ask_code(client, phone, outbox)})
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    ask_code(client, phone, outbox)
    age_challenges(phone, 40)
    ask_code(stranger(), phone, outbox)  # the strangers' cooldown starts, not this browser's
    html = client.post("/auth/code/", {"code": "ab"}).content.decode()
    countdown = int(re.search(r'data-countdown="(\d+)"', html).group(1))
    assert 15 <= countdown <= settings.OTP_RESEND_COOLDOWN - 40


# The code screen at its own address


def test_the_code_screen_without_a_pending_code_goes_back_to_the_phone_form(client, outbox):
    response = client.get("/auth/code/")
    assert response.status_code == 302 and response.url == "/"


def test_a_used_code_s_screen_is_gone(client, new_phone, outbox, make_member):
    code = ask_code(client, new_phone(), outbox)
    client.post("/auth/code/", {"code": code})
    client.post("/auth/logout/")
    assert client.get("/auth/code/").url == "/"


def test_htmx_pushes_the_code_screen_s_address_and_a_resend_replaces_it(
    client, new_phone, outbox, age_challenges
):
    phone = new_phone()
    asked = client.post("/auth/phone/", {"phone": phone}, **HX)
    assert asked.headers["HX-Push-Url"] == "/auth/code/"
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    resent = client.post("/auth/phone/", {"phone": phone, "resend": "1"}, **HX)
    # Back from the code screen still leads to the phone form, not to the same screen.
    assert resent.headers["HX-Replace-Url"] == "/auth/code/"
    assert "HX-Push-Url" not in resent.headers


def test_asking_again_for_the_number_whose_code_is_awaited_shows_its_code_screen(
    client, new_phone, outbox
):
    phone = new_phone()
    code = ask_code(client, phone, outbox)
    again = client.post("/auth/phone/", {"phone": phone}, **HX)
    html = again.content.decode()
    assert again.status_code == 200, html
    assert 'name="code"' in html and "A code was just sent" not in html
    assert len(outbox) == 1  # no second SMS, the first code still works
    assert client.post("/auth/phone/", {"phone": phone}).url == "/auth/code/"
    assert client.post("/auth/code/", {"code": code}).url == "/profile/"


def test_change_number_and_back_give_the_number_as_it_was_typed(client, outbox):
    client.post("/auth/phone/", {"phone": "8 (999) 123-45-67"})
    html = client.get("/").content.decode()
    assert 'value="8 (999) 123-45-67"' in html


@pytest.mark.parametrize(
    "pasted", ["Your code: {}", "{0[0]}{0[1]} {0[2]}{0[3]}", "{0[0]}-{0[1]}-{0[2]}-{0[3]}", " {} "]
)
def test_pasted_code_variants_sign_in(client, new_phone, outbox, pasted):
    code = ask_code(client, new_phone(), outbox)
    assert client.post("/auth/code/", {"code": pasted.format(code)}).url == "/profile/"


def test_the_whole_sms_pasted_signs_in(client, new_phone, outbox):
    ask_code(client, new_phone(), outbox)
    assert client.post("/auth/code/", {"code": outbox[-1].text}).url == "/profile/"


@pytest.mark.parametrize("bad", ["ab", "12345", "1", "1234.5"])
def test_a_malformed_code_gets_one_message(client, new_phone, outbox, bad):
    ask_code(client, new_phone(), outbox)
    html = client.post("/auth/code/", {"code": bad}).content.decode()
    assert html.count("The code is 4 digits.") == 1


def test_a_code_typed_on_another_number_s_screen_is_refused_and_counts_nothing(
    client, new_phone, outbox
):
    first, second = new_phone(), new_phone()
    first_code = ask_code(client, first, outbox)  # tab 1
    ask_code(client, second, outbox)  # tab 2, same browser
    response = client.post("/auth/code/", {"phone": first, "code": first_code}, **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "a code for +7 999" in html and "This code was not checked" in html
    assert html.count('role="alert"') and "Wrong code" not in html
    assert set(Challenge.objects.values_list("attempts_left", flat=True)) == {
        settings.OTP_MAX_ATTEMPTS
    }
    # The screen now is the second number's: its code signs in.
    assert f'name="phone" value="{second}"' in html
    assert client.post("/auth/code/", {"phone": second, "code": outbox[-1].code}).url == (
        "/profile/"
    )


def test_the_older_code_after_a_resend_says_so_and_costs_nothing(
    client, new_phone, outbox, age_challenges
):
    phone = new_phone()
    old = ask_code(client, phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    client.post("/auth/phone/", {"phone": phone, "resend": "1"})
    new = outbox[-1].code
    if old == new:
        return
    html = client.post("/auth/code/", {"phone": phone, "code": old}, **HX).content.decode()
    assert "A newer code was sent" in html and "Wrong code" not in html
    assert html.count("A newer code was sent") == 1
    pending = Challenge.objects.get(state=Challenge.State.PENDING)
    assert pending.attempts_left == settings.OTP_MAX_ATTEMPTS
    assert client.post("/auth/code/", {"phone": phone, "code": new}).url == "/profile/"
