"""The operator's console in a real browser: password sign-in, the range switch
without a reload, a review by htmx, no axe violations, the pictures for the README."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import Page, expect

from auth_flow.models import Challenge
from fraud.services import flags_refresh
from profiles.models import User
from tests.e2e.conftest import LAPTOP, PHONE, axe_violations, screenshot

PASSWORD = "a-long-operator-password"


@pytest.fixture
def programme(db: None) -> User:
    """A month of members, referrals, codes and a few flags to look at."""
    now = timezone.now()
    operator = User.objects.create_user("+79990000001", PASSWORD, is_staff=True)
    # Judging flags moves rewards: the operator holds the flag permission.
    operator.user_permissions.add(
        Permission.objects.get(content_type__app_label="fraud", codename="change_fraudflag")
    )
    inviters = []
    for n in range(6):
        inviters.append(
            User.objects.create_user(
                f"+7999100{n:04d}",
                date_joined=now - timedelta(days=28 - n),
                signup_ip="198.51.100.9",
            )
        )
    number = 0
    for day in range(28):
        for k in range(day % 5 + 1):
            number += 1
            joined = now - timedelta(days=day, hours=k)
            user = User.objects.create_user(f"+7999200{number:04d}", date_joined=joined)
            if k % 2 == 0:
                user.referred_by = inviters[(day + k) % len(inviters)]
                # The first few activate at once: fast_activation flags.
                user.activated_at = joined + timedelta(seconds=10 if number < 4 else 600)
                user.save(update_fields=["referred_by", "activated_at"])
        Challenge.objects.bulk_create(
            Challenge(
                phone=f"+7999300{day:02d}{k:02d}",
                ip="203.0.113.1",
                code_hash="0" * 64,
                state="used" if k % 3 else "pending",
                used_at=now - timedelta(days=day) if k % 3 else None,
                attempts_left=3,
                created_at=now - timedelta(days=day, minutes=k),
                expires_at=now - timedelta(days=day, minutes=k) + timedelta(minutes=5),
                provider=("smsru", "twilio")[k % 2],
            )
            for k in range(day % 4 + 2)
        )
    # What the queue's judging job does after activations (no console page judges).
    flags_refresh(limit=None)
    return operator


def sign_in_as_staff(page: Page, operator: User, path: str = "/staff/") -> None:
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.locator("input[name=username]").fill(str(operator.phone))
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(r"/staff/"))


def test_console_range_switch_review_and_accessibility(page: Page, programme: User):
    sign_in_as_staff(page, programme)
    expect(page.locator("[data-stat=members]")).to_be_visible()
    seven = page.locator("[data-stat=new_members]").get_attribute("data-value")

    # The switch swaps the range's fragment and keeps the range in the address.
    page.evaluate("window.notReloaded = true")
    page.get_by_role("link", name="30 days").click()
    expect(page.locator("#range-section")).to_have_attribute("data-range", "30d")
    expect(page).to_have_url(re.compile(r"\?range=30d$"))
    assert page.evaluate("window.notReloaded") is True
    thirty = page.locator("[data-stat=new_members]").get_attribute("data-value")
    assert int(thirty or 0) > int(seven or 0)
    expect(page.get_by_role("link", name="30 days")).to_have_attribute("aria-current", "page")

    # Back restores the previous range.
    page.go_back()
    expect(page.locator("#range-section")).to_have_attribute("data-range", "7d")

    violations = {"console": axe_violations(page, "console")}
    page.get_by_text("Show as a table").click()
    violations["console, table"] = axe_violations(page, "console, table")

    page.goto("/staff/flags/")
    flag = page.locator("[data-flag=fast_activation]").first
    expect(flag).to_be_visible()
    violations["flags"] = axe_violations(page, "flags")
    flag.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator("[data-flag=fast_activation]").first).to_have_attribute(
        "data-status", "reviewed"
    )
    page.get_by_label("Reason").select_option("sequential_phones")
    expect(page).to_have_url(re.compile(r"reason=sequential_phones"))

    assert violations == {screen: [] for screen in violations}


def test_console_at_phone_and_laptop_width_and_in_russian(new_context, programme: User):
    page = new_context(viewport=PHONE).new_page()
    sign_in_as_staff(page, programme, "/staff/?range=30d")
    expect(page.locator("[data-stat=activations]")).to_be_visible()
    screenshot(page, "console")  # fails if wider than the screen at 375 px
    page.goto("/staff/flags/")
    screenshot(page, "console-flags")

    page.set_viewport_size(LAPTOP)
    page.goto("/staff/?range=30d")
    page.get_by_role("button", name="RU").click()
    expect(page.get_by_role("heading", name="Пульт оператора")).to_be_visible()
    expect(page.get_by_role("link", name="30 дней")).to_have_attribute("aria-current", "page")
    assert axe_violations(page, "console (ru)") == []
    screenshot(page, "console-ru")


def test_the_rewards_screen_uses_the_whole_width_on_a_laptop(new_context, programme: User):
    """Its grant list went into the overview's 20rem side column, its table squeezed."""
    programme.user_permissions.add(
        Permission.objects.get(content_type__app_label="rewards", codename="view_grant")
    )
    page = new_context(viewport=LAPTOP).new_page()
    sign_in_as_staff(page, programme, "/staff/rewards/")
    heading = page.get_by_role("heading", level=1).bounding_box()
    for card in ("[aria-labelledby=cost-title]", "#grant-list"):
        box = page.locator(card).bounding_box()
        assert box and heading and box["x"] == heading["x"] and box["width"] > 900, (card, box)
