"""The member's loop in a real browser: an invite link that completes, the live list that
keeps what was opened, error pages, and the member's own data (download, delete)."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.phones import phone_masked
from profiles.models import MemberDeletion, User
from profiles.services import invite_activate
from tests.e2e.conftest import LAPTOP, PHONE, axe_violations, request_code, screenshot, sign_in

BLOCKING = {"serious", "critical"}


def no_blocking_violations(page: Page, screen: str) -> None:
    violations = [v for v in axe_violations(page, screen) if v["impact"] in BLOCKING]
    assert violations == [], violations


def fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{width} px wide"


@pytest.mark.parametrize(
    ("viewport", "locale", "join", "joined"),
    [
        (PHONE, "ru-RU", "Вступить по этому коду", "Спасибо"),
        (LAPTOP, "en-US", "Join with this code", "Thank you"),
    ],
    ids=["375-ru", "1280-en"],
)
def test_an_invite_link_completes_in_one_tap_after_the_code(
    new_context, make_member, new_phone, viewport, locale, join, joined
):
    inviter = make_member()
    masked = phone_masked(str(inviter.phone))
    page = new_context(viewport=viewport, locale=locale).new_page()

    page.goto(f"/?invite={inviter.invite_code}")
    expect(page.locator("[data-inviter]")).to_have_text(masked)
    fits(page)
    no_blocking_violations(page, f"sign-in with an invite link {locale}")

    phone = new_phone()
    sign_in(page, phone, path=f"/?invite={inviter.invite_code}")
    offer = page.locator(f'[data-invite-offer="{inviter.invite_code}"]')
    expect(offer).to_be_visible()
    box = offer.bounding_box()
    assert box and box["y"] + box["height"] < viewport["height"], "the offer is on the first screen"
    expect(page.locator("#invite-offer [data-inviter]")).to_have_text(masked)
    fits(page)
    no_blocking_violations(page, f"profile with the invite offer {locale}")
    if locale == "en-US":
        page.mouse.move(0, 0)
        screenshot(page, "invite-offer")

    page.get_by_role("button", name=join).click()

    result = page.locator("[data-offer-result=activated]")
    expect(result).to_contain_text(joined)
    expect(result).to_be_focused()
    expect(page.locator(f'[data-activated-code="{inviter.invite_code}"]')).to_be_visible()
    expect(page.locator("[data-invite-offer]")).to_have_count(0)
    assert User.objects.get(phone=phone).referred_by_id == inviter.pk


def test_an_unknown_invite_link_says_so(page):
    page.goto("/?invite=ZZZZZZ")
    expect(page.locator("[data-shared-invite=not_found]")).to_contain_text("does not work")


def test_show_more_stays_open_and_the_page_stays_still_during_a_live_update(
    new_context, make_member
):
    owner = make_member()
    for _ in range(64):
        invite_activate(user=make_member(), code=owner.invite_code)
    page = new_context(viewport=PHONE).new_page()
    sign_in(page, str(owner.phone))
    rows = page.locator("#referral-list li.referral")
    expect(rows).to_have_count(50)

    page.get_by_role("link", name="Show more").click()
    expect(rows).to_have_count(64)
    watched = rows.nth(60).element_handle()  # this very row, wherever the list puts it
    watched.scroll_into_view_if_needed()
    before = watched.bounding_box()
    scrolled = page.evaluate("window.scrollY")

    newcomer = make_member()
    invite_activate(user=newcomer, code=owner.invite_code)

    expect(page.locator("[data-referrals-count]")).to_have_text("65", timeout=8_000)
    expect(rows).to_have_count(65)
    expect(rows.first.locator("[data-referral-phone]")).to_have_attribute(
        "data-referral-phone", str(newcomer.phone)
    )
    after = watched.bounding_box()
    assert before and after and abs(after["y"] - before["y"]) <= 2, (before, after)
    assert page.evaluate("window.scrollY") > scrolled, "the browser kept the row in place"
    expect(page.get_by_role("status").filter(has_text="joined with your code")).to_contain_text(
        "Total: 65"
    )


@pytest.mark.parametrize(
    ("viewport", "locale", "title", "home"),
    [
        (PHONE, "ru-RU", "Страница не найдена", "На главную"),
        (LAPTOP, "en-US", "Page not found", "Go to the home page"),
    ],
    ids=["375-ru", "1280-en"],
)
def test_error_pages_are_in_the_layout_with_a_way_home(new_context, viewport, locale, title, home):
    page = new_context(viewport=viewport, locale=locale).new_page()

    response = page.goto("/no-such-page/")

    assert response and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    fits(page)
    no_blocking_violations(page, f"404 {locale}")
    page.get_by_role("link", name=home).click()
    expect(page.locator("input[name=phone]")).to_be_visible()


def test_a_forged_form_gets_the_sites_csrf_page(page):
    page.goto("/")
    page.context.clear_cookies()
    page.locator("input[name=phone]").fill("+79990001122")
    page.evaluate("document.querySelector('form[action=\"/auth/phone/\"]').submit()")
    expect(page.locator("[data-error-code=csrf_failed]")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()


def test_download_my_data_then_delete_the_account(new_context, make_member, new_phone):
    inviter = make_member()
    member_phone = new_phone()
    page = new_context(viewport=PHONE).new_page()
    sign_in(page, member_phone)
    member = User.objects.get(phone=member_phone)
    invite_activate(user=member, code=inviter.invite_code)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["phone"] == member_phone
    assert data["activated_invite_code"] == inviter.invite_code

    page.get_by_text("Delete my account", exact=True).click()
    field = page.get_by_label(re.compile("Type your phone number"))
    field.fill("+79990000000")
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.locator("#delete-error")).to_contain_text("type your own phone number")
    assert User.objects.filter(phone=member_phone).exists()
    no_blocking_violations(page, "profile, delete refused")

    page.get_by_label(re.compile("Type your phone number")).fill(member_phone)
    page.get_by_role("button", name="Delete my account for good").click()

    expect(page.locator("[data-account-deleted]")).to_be_visible()
    assert not User.objects.filter(phone=member_phone).exists()
    inviter.refresh_from_db()
    assert inviter.referrals_count == 0
    assert MemberDeletion.objects.filter(had_inviter=True).count() == 1
    page.goto("/profile/")
    expect(page.locator("input[name=phone]")).to_be_visible()


def test_without_javascript_the_invite_offer_and_deletion_work(new_context, make_member, new_phone):
    inviter = make_member()
    page = new_context(java_script_enabled=False, viewport=PHONE).new_page()
    phone = new_phone()

    page.goto(f"/?invite={inviter.invite_code}")
    expect(page.locator("[data-inviter]")).to_have_text(phone_masked(str(inviter.phone)))
    code = request_code(page, phone, path=f"/?invite={inviter.invite_code}")
    page.locator("input[name=code]").fill(code)
    page.locator("input[name=code]").press("Enter")  # no JavaScript: no auto-submit
    expect(page).to_have_url(re.compile(r"/profile/$"))
    page.get_by_role("button", name="Join with this code").click()
    expect(page.locator("[data-offer-result=activated]")).to_be_visible()
    expect(page.locator("[data-offer-result=activated]")).to_be_focused()
    assert User.objects.get(phone=phone).referred_by_id == inviter.pk

    page.get_by_text("Delete my account", exact=True).click()
    page.get_by_label(re.compile("Type your phone number")).fill(phone)
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.locator("[data-account-deleted]")).to_be_visible()
    assert not User.objects.filter(phone=phone).exists()


def test_after_activate_the_focus_is_on_the_result(page, make_member, new_phone):
    friend = make_member()
    sign_in(page, new_phone())
    page.get_by_role("textbox", name="Friend's invite code").fill(friend.invite_code)
    page.get_by_role("button", name="Activate").click()

    result = page.get_by_role("status").filter(has_text="Invite code activated")
    expect(result).to_be_focused()
    assert page.evaluate("window.scrollY") > 0 or result.bounding_box()["y"] < 800
