"""Sign-in in a real browser: with htmx, by keyboard alone, and with JavaScript off."""

import re

from playwright.sync_api import Page, expect

from core.phones import phone_display
from tests.e2e.conftest import request_code, sign_in, wrong_code


def test_sign_in_shows_spinner_then_attempts_left_then_lands_on_profile(page, settings, new_phone):
    settings.OTP_SEND_DELAY = [0.8, 0.8]
    phone = new_phone()
    page.goto("/")
    page.get_by_label("Phone number").fill(phone)
    page.get_by_role("button", name="Send code").click()

    expect(page.locator("#phone-sending")).to_be_visible()
    expect(page.get_by_text("Sending the code…")).to_be_visible()
    expect(page.locator("#auth-card button[type=submit]")).to_be_disabled()

    demo = page.locator("[data-demo-code]")
    expect(demo).to_be_visible()
    code = demo.get_attribute("data-demo-code") or ""
    # The 4th digit sends the form: no button to press.
    page.get_by_label("Code from the SMS").fill(wrong_code(code))
    expect(
        page.get_by_role("alert").filter(has_text="Wrong code. 2 attempts left.")
    ).to_be_visible()

    page.get_by_label("Code from the SMS").fill(code)
    expect(page).to_have_url(re.compile(r"/profile/$"))
    expect(page.locator(f'[data-phone="{phone}"]')).to_have_text(phone_display(phone))


def test_resend_link_counts_down_then_becomes_active(page, settings, new_phone):
    settings.OTP_RESEND_COOLDOWN = 3
    request_code(page, new_phone())
    resend = page.get_by_role("button", name="Send a new code")
    countdown = page.locator("[data-countdown-text]")

    expect(resend).to_be_disabled()
    expect(countdown).to_have_text(re.compile(r"available in [23] s"))
    expect(countdown).to_have_text("available in 1 s")
    expect(resend).to_be_enabled()
    expect(countdown).to_have_text("")

    resend.click()
    expect(page.get_by_role("button", name="Send a new code")).to_be_disabled()
    expect(page.locator("[data-demo-code]")).to_be_visible()


def test_keyboard_alone_signs_in(page, new_phone):
    page.goto("/")
    tab_to(page, "input[name=phone]")
    page.keyboard.type(new_phone())
    page.keyboard.press("Enter")
    code = page.locator("[data-demo-code]").get_attribute("data-demo-code") or ""

    # The submit button is swapped away; focus lands on the code field, not the page top.
    expect(page.locator("input[name=code]")).to_be_focused()
    page.keyboard.type(code)  # the 4th digit sends it
    expect(page).to_have_url(re.compile(r"/profile/$"))


def test_sign_out_returns_to_sign_in_and_closes_the_profile(page, new_phone):
    sign_in(page, new_phone())
    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/profile/")
    expect(page).to_have_url(re.compile(r"/\?next=/profile/$"))


def test_share_link_survives_sign_in_and_prefills_the_invite_form(page, make_member, new_phone):
    friend = make_member()
    sign_in(page, new_phone(), path=f"/?invite={friend.invite_code.lower()}")
    expect(page.get_by_role("textbox", name="Friend's invite code")).to_have_value(
        friend.invite_code
    )


def test_sign_in_and_activation_work_without_javascript(new_context, make_member, new_phone):
    friend = make_member()
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/")
    page.get_by_label("Phone number").fill(new_phone())
    page.get_by_role("button", name="Send code").click()
    code = page.locator("[data-demo-code]").get_attribute("data-demo-code") or ""

    page.get_by_label("Code from the SMS").fill(wrong_code(code))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="2 attempts left")).to_be_visible()
    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/profile/$"))
    expect(page.get_by_role("button", name="Copy code")).to_be_hidden()

    page.get_by_role("textbox", name="Friend's invite code").fill(friend.invite_code)
    page.get_by_role("button", name="Activate").click()
    expect(page.locator(f'[data-activated-code="{friend.invite_code}"]')).to_be_visible()
    expect(page.get_by_role("textbox", name="Friend's invite code")).to_have_count(0)


def tab_to(page: Page, selector: str, *, limit: int = 15) -> None:
    """Press Tab until `selector` has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")
