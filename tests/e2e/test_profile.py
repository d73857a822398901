"""The profile in a real browser: copy, share, QR, invite validation, live referrals."""

import pytest
from playwright.sync_api import expect

from core.phones import phone_display
from tests.e2e.conftest import PHONE, axe_violations, screenshot, sign_in

# A share sheet as phones have it (Chromium on Linux has none): records what it was given.
STUB_SHARE = """
window.sharedWith = [];
Navigator.prototype.share = function (data) {
  window.sharedWith.push(data);
  return Promise.resolve();
};
"""
NO_SHARE = "delete Navigator.prototype.share;"
BLOCKING = {"serious", "critical"}


def test_copy_button_puts_the_invite_code_on_the_clipboard(new_context, new_phone):
    page = new_context(permissions=["clipboard-read", "clipboard-write"]).new_page()
    sign_in(page, new_phone())
    own_code = page.locator("[data-invite-code]").get_attribute("data-invite-code")

    copy = page.get_by_role("button", name="Copy code")
    copy.click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == own_code
    expect(page.get_by_role("figure").locator("svg.qr")).to_be_visible()


@pytest.mark.parametrize(
    ("locale", "button", "text"),
    [
        (
            "en-US",
            "Share",
            "Join me on Invite friends: you sign in with just your phone in a minute, "
            "no password. My code {code} connects us:",
        ),
        (
            "ru-RU",
            "Поделиться",
            "Присоединяйтесь ко мне в «Пригласи друзей»: вход по номеру телефона за минуту, "
            "без пароля. Мой код {code} нас свяжет:",
        ),
    ],
)
def test_share_button_opens_the_share_sheet_with_the_link_and_a_short_text(
    new_context, member_with_referrals, locale, button, text
):
    context = new_context(locale=locale, viewport=PHONE)
    context.add_init_script(STUB_SHARE)
    page = context.new_page()
    sign_in(page, str(member_with_referrals.phone))
    code = page.locator("[data-invite-code]").get_attribute("data-invite-code") or ""
    link = page.locator("#share-link").get_attribute("href") or ""

    page.get_by_role("button", name=button, exact=True).click()

    page.wait_for_function("window.sharedWith.length === 1")
    assert page.evaluate("window.sharedWith") == [{"text": text.format(code=code), "url": link}]
    assert link.endswith(f"/?invite={code}")
    if locale == "en-US":
        assert [v for v in axe_violations(page, "profile, share") if v["impact"] in BLOCKING] == []
        # The profile as a phone shows it: Share next to Copy link (docs/screenshots/profile-375).
        page.mouse.move(0, 0)  # no hover colour in the picture
        screenshot(page, "profile-share")


def test_without_a_share_sheet_there_is_no_share_button(new_context, new_phone):
    context = new_context(viewport=PHONE)
    context.add_init_script(NO_SHARE)
    page = context.new_page()
    sign_in(page, new_phone())

    expect(page.get_by_role("button", name="Copy link")).to_be_visible()
    expect(page.get_by_role("button", name="Share", exact=True)).to_have_count(0)
    expect(page.locator("[data-share-url]")).to_be_hidden()


def test_invite_form_validates_while_typing_and_activation_shows_the_code_in_place(
    page, make_member, new_phone
):
    friend = make_member()
    sign_in(page, new_phone())
    own_code = page.locator("[data-invite-code]").get_attribute("data-invite-code") or ""
    field = page.get_by_role("textbox", name="Friend's invite code")
    check = page.locator("#invite-check")

    field.fill("ZZZZZZ")
    expect(check).to_have_attribute("data-check", "invite_not_found")
    expect(check).to_contain_text("No member has this invite code")
    field.fill(own_code.lower())
    expect(check).to_have_attribute("data-check", "invite_own_code")
    expect(check).to_contain_text("your own invite code")
    field.fill(friend.invite_code)
    expect(check).to_have_attribute("data-check", "ok")

    page.get_by_role("button", name="Activate").click()
    expect(page.locator(f'[data-activated-code="{friend.invite_code}"]')).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Invite code activated")).to_be_visible()
    expect(field).to_have_count(0)
    assert page.url.endswith("/profile/")


def test_new_referral_appears_on_the_open_profile_without_reload(new_context, new_phone):
    owner = new_context().new_page()
    sign_in(owner, new_phone())
    code = owner.locator("[data-invite-code]").get_attribute("data-invite-code") or ""
    expect(owner.locator("[data-referrals-count]")).to_have_text("0")

    friend_phone = new_phone()
    friend = new_context().new_page()
    sign_in(friend, friend_phone)
    friend.get_by_role("textbox", name="Friend's invite code").fill(code)
    friend.get_by_role("button", name="Activate").click()
    expect(friend.locator(f'[data-activated-code="{code}"]')).to_be_visible()

    # The list polls every 5 s: allow one period plus a margin.
    expect(owner.locator(f'[data-referral-phone="{friend_phone}"]')).to_have_text(
        phone_display(friend_phone), timeout=7_000
    )
    expect(owner.locator("[data-referrals-count]")).to_have_text("1")
    # Screen readers hear it too: the page's live region, outside the swapped list.
    expect(owner.get_by_role("status").filter(has_text="joined with your code")).to_have_text(
        "A new member joined with your code. Total: 1."
    )
