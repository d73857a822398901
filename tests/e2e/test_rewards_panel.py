"""The rewards on the profile in a real browser: totals and milestone progress in
English and Russian at phone and laptop width, axe-clean, and a grant's new state
arriving on the open page without a reload."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fraud.models import FraudFlag
from profiles.models import User
from profiles.services import invite_activate
from rewards import services
from rewards.models import Grant
from tests.e2e.conftest import LAPTOP, PHONE, axe_violations, screenshot, sign_in

BLOCKING = {"serious", "critical"}


def referrer_grant(friend: User) -> Grant:
    return Grant.objects.get(kind=Grant.Kind.REFERRER, referral=friend)


@pytest.fixture
def rewarded(make_member) -> tuple[User, list[User]]:
    """A member five friends joined: a reward pending, on review, available, received, voided."""
    services.program_set(
        referrer_amount=100,
        friend_amount=50,
        unit="points",
        hold_days=14,
        milestones={7: 500, 20: 2000},
        monthly_cap=None,
        total_cap=None,
    )
    owner = make_member()
    friends = [make_member() for _ in range(5)]
    for friend in friends:
        invite_activate(user=friend, code=owner.invite_code)
    pending, held, available, received, voided = friends
    services.grant_approve(grant=referrer_grant(available))
    services.grant_approve(grant=referrer_grant(received))
    services.grant_fulfil(grant=referrer_grant(received))
    services.grant_void(grant=referrer_grant(voided), reason=Grant.VoidReason.FRAUD)
    now = timezone.now()
    FraudFlag.objects.create(reason="burst", inviter=owner, subject=held, raised_at=now,
                             updated_at=now)  # fmt: skip
    return owner, friends


@pytest.mark.parametrize(
    ("locale", "texts", "name"),
    [
        (
            "en-US",
            {
                "pending": "200 points",
                "approved": "100 points",
                "fulfilled": "100 points",
                "milestone": "2 more friends → 500 points",
            },  # fmt: skip
            "profile-rewards",
        ),
        (
            "ru-RU",
            {
                "pending": "200 баллов",
                "approved": "100 баллов",
                "fulfilled": "100 баллов",
                "milestone": "Ещё 2 друга → 500 баллов",
            },  # fmt: skip
            "profile-rewards-ru",
        ),
    ],
)
def test_the_profile_shows_rewards_and_milestone_progress_at_both_widths(
    new_context, rewarded, locale, texts, name
):
    owner, friends = rewarded
    page = new_context(locale=locale).new_page()
    sign_in(page, str(owner.phone))

    for viewport in (PHONE, LAPTOP):
        page.set_viewport_size(viewport)
        for state, value in (("pending", 200), ("approved", 100), ("fulfilled", 100)):
            total = page.locator(f'[data-reward="{state}"]')
            expect(total).to_have_attribute("data-value", str(value))
            expect(total).to_have_text(texts[state])
            expect(total).to_be_visible()
        expect(page.locator("[data-next-milestone]")).to_have_text(texts["milestone"])
        states = page.locator("[data-reward-state]")
        expect(states).to_have_count(5)
        # Newest first: voided, received, available, on review, pending.
        assert [states.nth(i).get_attribute("data-reward-state") for i in range(5)] == [
            "voided", "fulfilled", "approved", "on_hold", "pending"]  # fmt: skip
        violations = axe_violations(page, f"{name} {viewport['width']}")
        assert [v for v in violations if v["impact"] in BLOCKING] == []
    page.mouse.move(0, 0)  # no hover colour in the picture
    screenshot(page, name)


def test_a_grant_approved_meanwhile_shows_on_the_open_profile(new_context, rewarded):
    owner, friends = rewarded
    page = new_context().new_page()
    sign_in(page, str(owner.phone))
    pending = page.locator(f'[data-referral-phone="{friends[0].phone}"]').locator("xpath=..")
    expect(pending).to_have_attribute("data-reward-state", "pending")
    page.evaluate("document.querySelector('#referral-list').dataset.kept = 'yes'")

    services.grant_approve(grant=referrer_grant(friends[0]))

    # The list polls every 5 s: one period plus a margin.
    expect(pending).to_have_attribute("data-reward-state", "approved", timeout=7_000)
    expect(page.locator('[data-reward="approved"]')).to_have_attribute("data-value", "200")
    expect(page.locator('[data-reward="pending"]')).to_have_attribute("data-value", "100")
    expect(page.get_by_role("status").filter(has_text="list was updated")).to_have_text(
        "Your referrals list was updated."
    )
    # Brought up to date in place: the list element itself was not replaced.
    assert page.evaluate("document.querySelector('#referral-list').dataset.kept") == "yes"
