"""The code screen at its own address (/auth/code/), in a real browser: it survives a
reload, the language switch and Back; the same number again finds it; pasted codes
and the 4th digit; an older code after a resend; two tabs; JavaScript off.

Kept small: each case once, at the width and in the language where it matters most.
"""

import re

from playwright.sync_api import Page, expect

from auth_flow.models import Challenge
from tests.e2e.conftest import PHONE, axe_violations, wrong_code

BLOCKING = {"serious", "critical"}
CODE_URL = re.compile(r"/auth/code/$")


def ask(page: Page, typed: str, *, button: str = "Send code") -> str:
    """Type a number on the phone form as a person would; the demo code shown."""
    page.locator("input[name=phone]").fill(typed)
    page.get_by_role("button", name=button).click()
    demo = page.locator("[data-demo-code]")
    expect(demo).to_be_visible()
    return demo.get_attribute("data-demo-code") or ""


def blocking(page: Page, screen: str) -> list:
    return [v for v in axe_violations(page, screen) if v["impact"] in BLOCKING]


def test_reload_language_switch_and_back_keep_the_code_screen(new_context, new_phone):
    page = new_context(viewport=PHONE).new_page()
    phone = new_phone()
    typed = f"8 {phone[2:5]} {phone[5:8]}-{phone[8:10]}-{phone[10:]}"
    page.goto("/")
    code = ask(page, typed)
    expect(page).to_have_url(CODE_URL)
    lifetime = page.locator("[data-expires]")
    expect(lifetime).to_have_text(re.compile(r"The code works for another 4:5\d\."))

    # A phone reloads the tab when you come back from Messages.
    page.reload()
    expect(page).to_have_url(CODE_URL)
    expect(page.locator(f'[data-demo-code="{code}"]')).to_be_visible()
    expect(page.get_by_role("button", name="Send a new code")).to_be_disabled()

    page.get_by_role("button", name="RU").click()
    expect(page).to_have_url(CODE_URL)
    expect(page.get_by_role("heading", name="Введите код")).to_be_visible()
    expect(page.locator("[data-expires]")).to_have_text(re.compile(r"Код действует ещё 4:5\d\."))
    assert blocking(page, "code screen (ru, 375)") == []
    page.get_by_role("button", name="EN").click()
    expect(page.get_by_role("heading", name="Enter the code")).to_be_visible()

    # Back, past the language switches, to the phone form: the number as typed.
    page.go_back()
    page.go_back()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("input[name=phone]")).to_have_value(typed)
    # Forward again, and the code still signs in.
    page.go_forward()
    expect(page).to_have_url(CODE_URL)
    page.get_by_label("Code from the SMS").fill(code)
    expect(page).to_have_url(re.compile(r"/profile/$"))


def test_back_from_the_code_screen_returns_to_the_phone_form(page, new_phone):
    phone = new_phone()
    page.goto("/")
    ask(page, phone)
    expect(page).to_have_url(CODE_URL)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("input[name=phone]")).to_have_value(phone)
    # The same number again: its code screen, not "a code was just sent" with nowhere to type.
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(CODE_URL)
    expect(page.get_by_label("Code from the SMS")).to_be_visible()
    expect(page.get_by_text("A code was just sent")).to_have_count(0)
    assert Challenge.objects.filter(phone=phone).count() == 1


def test_pasted_codes_are_taken_apart_and_the_4th_digit_signs_in(page, new_phone):
    page.goto("/")
    code = ask(page, new_phone())
    field = page.get_by_label("Code from the SMS")
    alert = page.get_by_role("alert")
    wrong = wrong_code(code)

    field.focus()
    page.keyboard.insert_text(f"Your code: {wrong}")  # as a paste arrives
    expect(alert.filter(has_text="Wrong code. 2 attempts left.")).to_be_visible()
    expect(field).to_have_value(wrong)
    expect(page.get_by_text("The code is 4 digits.")).to_have_count(0)

    field.fill("")
    field.focus()
    page.keyboard.insert_text(f"{wrong[:2]} {wrong[2:]}")
    expect(alert.filter(has_text="Wrong code. 1 attempt left.")).to_be_visible()

    field.fill("")
    field.focus()
    page.keyboard.insert_text("-".join(code))
    expect(page).to_have_url(re.compile(r"/profile/$"))


def test_an_older_code_after_a_resend_says_a_newer_one_was_sent(new_context, new_phone, settings):
    settings.OTP_RESEND_COOLDOWN = 1
    page = new_context(viewport=PHONE, locale="ru-RU").new_page()
    page.goto("/")
    page.get_by_label("Номер телефона").fill(new_phone())
    page.get_by_role("button", name="Получить код").click()
    old = page.locator("[data-demo-code]").get_attribute("data-demo-code") or ""
    resend = page.get_by_role("button", name="Отправить новый код")
    expect(resend).to_be_enabled()
    resend.click()
    expect(page.locator("[data-demo-code]")).not_to_have_attribute("data-demo-code", old)
    new = page.locator("[data-demo-code]").get_attribute("data-demo-code") or ""
    expect(page).to_have_url(CODE_URL)

    page.get_by_label("Код из СМС").fill(old)
    expect(page.get_by_role("alert").filter(has_text="Отправлен новый код")).to_be_visible()
    assert blocking(page, "code screen, code replaced (ru, 375)") == []
    assert Challenge.objects.get(state="pending").attempts_left == settings.OTP_MAX_ATTEMPTS
    page.get_by_label("Код из СМС").fill(new)
    expect(page).to_have_url(re.compile(r"/profile/$"))


def test_a_code_typed_in_a_tab_for_another_number_counts_nothing(new_context, new_phone):
    context = new_context()
    first, second = context.new_page(), context.new_page()
    phone_one, phone_two = new_phone(), new_phone()
    first.goto("/")
    code_one = ask(first, phone_one)
    second.goto("/")
    code_two = ask(second, phone_two)

    first.get_by_label("Code from the SMS").fill(code_one)
    alert = first.get_by_role("alert").filter(has_text="This code was not checked")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("+7 999")
    assert set(Challenge.objects.values_list("attempts_left", flat=True)) == {3}
    assert blocking(first, "code screen, another tab's number") == []
    # The screen now names the number the session waits for; its code signs in.
    first.get_by_label("Code from the SMS").fill(code_two)
    expect(first).to_have_url(re.compile(r"/profile/$"))


def test_webotp_fills_the_code_where_the_browser_offers_it(new_context, new_phone):
    context = new_context()
    # Chrome on Android hands over the code of an SMS ending "@<host> #<code>".
    context.add_init_script(
        "window.OTPCredential = function () {};"
        "navigator.credentials.get = (options) => options.otp ? new Promise((resolve) =>"
        " setTimeout(() => resolve({code: document.querySelector('[data-demo-code]')"
        ".dataset.demoCode}), 200)) : Promise.reject(new Error('no'));"
    )
    page = context.new_page()
    page.goto("/")
    page.locator("input[name=phone]").fill(new_phone())
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(re.compile(r"/profile/$"))


def test_the_whole_sign_in_loop_without_javascript(new_context, new_phone, settings):
    page = new_context(java_script_enabled=False, viewport=PHONE).new_page()
    phone = new_phone()
    typed = f"+7 ({phone[2:5]}) {phone[5:8]} {phone[8:]}"
    page.goto("/")
    code = ask(page, typed)
    expect(page).to_have_url(CODE_URL)
    # The figures the countdowns start from, written by the server.
    expect(page.locator("[data-expires]")).to_have_text(
        re.compile(r"The code works for another (5:00|4:5\d)\.")
    )
    expect(page.locator("[data-countdown-text]")).to_have_text(re.compile(r"available in \d+ s"))

    page.reload()
    page.get_by_role("button", name="RU").click()
    expect(page).to_have_url(CODE_URL)
    expect(page.get_by_role("heading", name="Введите код")).to_be_visible()
    page.get_by_role("button", name="EN").click()

    page.get_by_role("link", name="Change number").click()
    expect(page.locator("input[name=phone]")).to_have_value(typed)
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(CODE_URL)
    expect(page.locator(f'[data-demo-code="{code}"]')).to_be_visible()

    page.get_by_label("Code from the SMS").fill(f"12 3{wrong_code(code)[3]}x")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator(".field-error p")).to_have_count(1)
    page.get_by_label("Code from the SMS").fill(f"Your code: {code}")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/profile/$"))
