"""Russian, accessibility (axe-core) and the pictures for docs/screenshots/."""

import itertools
import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, axe_violations, screenshot, sign_in, wrong_code

BLOCKING = {"serious", "critical"}
NARROW = {"width": 320, "height": 640}


def test_russian_browser_gets_the_whole_flow_in_russian(new_context, new_phone):
    page = new_context(locale="ru-RU").new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", name="Войти")).to_be_visible()

    page.get_by_label("Номер телефона").fill(new_phone())
    page.get_by_role("button", name="Получить код").click()
    expect(page.get_by_role("heading", name="Введите код")).to_be_visible()
    code = page.locator("[data-demo-code]").get_attribute("data-demo-code") or ""
    field = page.get_by_label("Код из СМС")
    alert = page.get_by_role("alert")

    # The 4th digit sends the form.
    field.fill(wrong_code(code))
    expect(alert.filter(has_text="Неверный код. Осталось 2 попытки.")).to_be_visible()
    field.fill(wrong_code(code))
    expect(alert.filter(has_text="Неверный код. Осталась 1 попытка.")).to_be_visible()
    field.fill(code)

    expect(page).to_have_url(re.compile(r"/profile/$"))
    expect(page.get_by_role("heading", name="Ваш профиль")).to_be_visible()
    page.get_by_role("textbox", name="Инвайт-код друга").fill("ZZZZZZ")
    expect(page.locator("#invite-check")).to_contain_text("Такого инвайт-кода нет")


def test_sign_in_code_and_profile_screens_have_no_serious_axe_violations(
    page, member_with_referrals
):
    found = {}
    page.goto("/")
    found["sign-in"] = axe_violations(page, "sign-in")
    submit_phone(page, str(member_with_referrals.phone))
    found["code"] = axe_violations(page, "code")
    code = page.locator("[data-demo-code]").get_attribute("data-demo-code") or ""
    submit_code(page, wrong_code(code))
    expect(page.get_by_role("alert").filter(has_text="attempts left")).to_be_visible()
    found["code, wrong code"] = axe_violations(page, "code, wrong code")
    submit_code(page, code)
    expect(page).to_have_url(re.compile(r"/profile/$"))
    found["profile"] = axe_violations(page, "profile")
    page.get_by_role("button", name="RU").click()
    expect(page.get_by_role("heading", name="Ваш профиль")).to_be_visible()
    found["profile (ru)"] = axe_violations(page, "profile (ru)")

    blocking = {
        screen: [v for v in violations if v["impact"] in BLOCKING]
        for screen, violations in found.items()
    }
    assert blocking == {screen: [] for screen in found}


def test_each_screen_is_captured_at_phone_and_laptop_width(page, member_with_referrals):
    page.goto("/")
    screenshot(page, "sign-in")
    submit_phone(page, str(member_with_referrals.phone))
    screenshot(page, "code")
    submit_code(page, page.locator("[data-demo-code]").get_attribute("data-demo-code") or "")
    expect(page.locator("[data-referral-phone]")).to_have_count(3)
    screenshot(page, "profile")

    # The language switch in the header, on a signed-in page.
    page.get_by_role("button", name="RU").click()
    expect(page.get_by_role("heading", name="Ваш профиль")).to_be_visible()
    screenshot(page, "profile-ru")


def test_the_header_stays_on_one_line_in_russian_on_a_phone(new_context, new_phone):
    """At 375 px "Пригласи друзей" used to run under EN/RU and "Выйти"."""
    page = new_context(locale="ru-RU", viewport=PHONE).new_page()
    page.goto("/")
    assert_header_on_one_line(page, parts=2, name_whole=True)
    sign_in(page, new_phone())
    assert_header_on_one_line(page, parts=3, name_whole=True)
    page.set_viewport_size(NARROW)  # the mark alone (or, without :has(), a cut name)
    assert_header_on_one_line(page, parts=2, name_whole=False)

    page.get_by_role("button", name="Выйти").click()
    expect(page.get_by_role("heading", name="Войти")).to_be_visible()
    assert_header_on_one_line(page, parts=2, name_whole=True)  # no Sign out: room for the name


def assert_header_on_one_line(page: Page, *, parts: int, name_whole: bool) -> None:
    """The brand's name, the language switch and Sign out: the shown ones side by side, apart."""
    boxes = page.evaluate(
        """() => [".brand__name", ".language", "[data-testid=sign-out]"]
            .map(s => document.querySelector(s)).filter(e => e && e.offsetParent)
            .map(e => { const r = e.getBoundingClientRect();
                        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })"""
    )
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert len(boxes) >= parts, f"{len(boxes)} of the header's parts shown at {width} px"
    for before, after in itertools.pairwise(boxes):
        assert before["right"] <= after["left"], f"overlap at {width} px: {boxes}"
        # One line: each part's vertical middle lies within its neighbour's height.
        middle = (after["top"] + after["bottom"]) / 2
        assert before["top"] < middle < before["bottom"], f"two lines at {width} px: {boxes}"
    assert boxes[-1]["right"] <= width, f"past the screen's edge at {width} px: {boxes}"
    if name_whole:
        cut = page.locator(".brand__name").evaluate("e => e.scrollWidth > e.clientWidth")
        assert not cut, f"the site's name is cut at {width} px"


def submit_phone(page: Page, phone: str) -> None:
    page.get_by_label("Phone number").fill(phone)
    page.get_by_role("button", name="Send code").click()
    expect(page.locator("[data-demo-code]")).to_be_visible()


def submit_code(page: Page, code: str) -> None:
    page.get_by_label("Code from the SMS").fill(code)  # the 4th digit sends it
