"""The member's face of the rewards: the panel on the profile's referrals list, each
row's reward, and the poll that brings both up to date (rewards.receivers.profile_panel
through profiles' extras seam)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from core.staff import PHONE_CODE_BACKEND
from fraud.models import FraudFlag
from profiles.models import User
from profiles.signals import profile_extras
from rewards import services
from rewards.models import Grant, Program
from rewards.receivers import profile_panel

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


def signed_in(member: User) -> Client:
    client = Client()
    client.force_login(member, backend=PHONE_CODE_BACKEND)
    return client


def totals(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-reward="(\w+)" data-value="(\d+)"', html)}


def row_states(html: str) -> dict[str, str]:
    """Each row's reward state by the referral's phone shown on it."""
    rows = re.findall(r'<li class="referral"[^>]*?>.*?</li>', html, re.S)
    found = {}
    for row in rows:
        phone = re.search(r'data-referral-phone="([^"]+)"', row).group(1)
        state = re.search(r'data-reward-state="(\w+)"', row)
        found[phone] = state.group(1) if state else None
    return found


def list_state(html: str) -> dict[str, str]:
    block = re.search(r'<div id="referrals-state".*?</div>', html, re.S).group(0)
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', block))


def grant_for(referral: User) -> Grant:
    return Grant.objects.get(kind=Grant.Kind.REFERRER, referral=referral)


@pytest.fixture
def inviter(make_member) -> User:
    return make_member()


def test_the_panel_shows_the_three_totals_read_from_the_ledger(
    program, activate, make_member, inviter, django_capture_on_commit_callbacks
):
    program(referrer_amount=100, friend_amount=50)
    friends = [make_member() for _ in range(4)]
    for friend in friends:
        activate(friend, inviter)
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_approve(grant=grant_for(friends[0]))
        services.grant_approve(grant=grant_for(friends[1]))
        services.grant_fulfil(grant=grant_for(friends[1]))
        services.grant_void(grant=grant_for(friends[2]))

    html = signed_in(inviter).get("/profile/").content.decode()

    # Only the three totals carry data-reward (rows carry data-reward-state).
    assert re.findall(r'data-reward="(\w+)"', html) == ["pending", "approved", "fulfilled"]
    assert totals(html) == {"pending": 100, "approved": 100, "fulfilled": 100}
    assert "100 points" in html and 'data-rewards-unit="points"' in html
    # The friend's own reward is theirs: 50 pending on their profile.
    assert totals(signed_in(friends[0]).get("/profile/").content.decode())["pending"] == 50


def test_totals_read_grants_in_the_program_s_unit_only(program, activate, make_member, inviter):
    program(unit="points")
    activate(make_member(), inviter)
    program(unit="RUB", referrer_amount=300)
    activate(make_member(), inviter)

    html = signed_in(inviter).get("/profile/").content.decode()

    assert totals(html)["pending"] == 300 and "300\xa0RUB" in html


@pytest.mark.parametrize(
    ("done", "language", "text"),
    [
        (1, "en", "2 more friends → 500 points"),
        (2, "en", "1 more friend → 500 points"),
        (2, "ru", "Ещё 1 друг → 500 баллов"),
        (1, "ru", "Ещё 2 друга → 500 баллов"),
        (0, "ru", "Ещё 3 друга → 500 баллов"),
    ],
)
def test_progress_to_the_next_milestone_is_said_in_the_member_s_language(
    program, activate, make_member, inviter, done, language, text
):
    program(milestones={3: 500, 10: 2000})
    for _ in range(done):
        activate(make_member(), inviter)

    html = signed_in(inviter).get("/profile/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    shown = re.search(r'data-next-milestone="(\d+)">([^<]+)<', html)
    assert (shown.group(1), shown.group(2).strip()) == (str(3 - done), text)
    assert f'max="3" value="{done}"' in html


def test_past_the_last_milestone_and_in_russian_plurals_of_many(
    program, activate, make_member, inviter
):
    program(milestones={3: 500, 10: 2000}, referrer_amount=5)
    for _ in range(5):
        activate(make_member(), inviter)

    html = signed_in(inviter).get("/profile/", **RU).content.decode()

    assert "Ещё 5 друзей → 2 000 баллов" in html.replace("\xa0", " ")
    assert "25 баллов" in html  # 5 × 5 pending
    assert "Ваши награды" in html and "Доступно" in html and "Получено" in html


def test_each_row_shows_its_reward_s_state(
    program, activate, make_member, inviter, django_capture_on_commit_callbacks
):
    program(hold_days=14)
    waiting, held, available, received, voided, capped = (make_member() for _ in range(6))
    for friend in (waiting, held, available, received, voided, capped):
        activate(friend, inviter)
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_approve(grant=grant_for(available))
        services.grant_approve(grant=grant_for(received))
        services.grant_fulfil(grant=grant_for(received))
        services.grant_void(grant=grant_for(voided), reason=Grant.VoidReason.FRAUD)
        services.grant_void(grant=grant_for(capped), reason=Grant.VoidReason.CAP)
    FraudFlag.objects.create(reason="burst", inviter=inviter, subject=held,
                             raised_at=timezone.now(), updated_at=timezone.now())  # fmt: skip

    html = signed_in(inviter).get("/profile/").content.decode()

    assert row_states(html) == {
        str(waiting.phone): "pending",
        str(held.phone): "on_hold",
        str(available.phone): "approved",
        str(received.phone): "fulfilled",
        str(voided.phone): "voided",
        str(capped.phone): "voided",
    }
    until = date_format(timezone.localtime(grant_for(waiting).available_at))
    assert f"pending until {until}" in html
    for said in ("on review", "available", "received", "voided: suspected fraud",
                 "voided: over the reward limit"):  # fmt: skip
        assert said in html
    ru = signed_in(inviter).get("/profile/", **RU).content.decode()
    for said in ("ожидает до", "на проверке", "доступно", "получено",
                 "аннулировано: подозрение на мошенничество"):  # fmt: skip
        assert said in ru


def test_no_panel_without_a_program_or_a_grant(inviter, make_member, activate):
    activate(make_member(), inviter)

    html = signed_in(inviter).get("/profile/").content.decode()

    assert "data-reward" not in html and "rewards-panel" not in html
    assert '<div id="referrals-panels" class="referrals-panels"></div>' in html


def test_a_program_gone_still_shows_what_was_granted(program, activate, make_member, inviter):
    program()
    activate(make_member(), inviter)
    Program.objects.update(active=False)

    html = signed_in(inviter).get("/profile/").content.decode()

    assert totals(html) == {"pending": 100, "approved": 0, "fulfilled": 0}
    assert "data-next-milestone" not in html


def test_a_masked_list_never_carries_the_whole_number(
    program, activate, make_member, inviter, settings
):
    settings.REFERRAL_PHONES = "masked"
    program()
    friend = make_member()
    activate(friend, inviter)

    html = signed_in(inviter).get("/profile/").content.decode()

    assert str(friend.phone) not in html and str(friend.phone)[1:] not in html
    assert list(row_states(html).values()) == ["pending"]


def test_the_profile_s_queries_do_not_grow_with_referrals_and_rewards_add_two(
    program, activate, make_member, inviter
):
    program(milestones={3: 500})

    def queries() -> int:
        client = signed_in(inviter)
        client.get("/profile/")  # the session and the cache are warm from here on
        with CaptureQueriesContext(connection) as captured:
            client.get("/profile/")
        return len(captured)

    activate(make_member(), inviter)
    few = queries()
    for _ in range(59):
        activate(make_member(), inviter)
    assert queries() == few
    profile_extras.disconnect(dispatch_uid="rewards.profile_extras")
    try:
        without_rewards = queries()
    finally:
        profile_extras.connect(profile_panel, dispatch_uid="rewards.profile_extras")
    assert few - without_rewards == 2  # the summary, the rows' grants


# --- the poll -----------------------------------------------------------------


def poll(client: Client, held: dict[str, str], **extra: str):
    return client.get("/profile/referrals/", held, **HX, **extra)


def test_a_grant_s_state_change_reaches_the_open_list_without_a_new_member(
    program, activate, make_member, inviter, django_capture_on_commit_callbacks
):
    program()
    friends = [make_member() for _ in range(3)]
    for friend in friends:
        activate(friend, inviter)
    client = signed_in(inviter)
    held = list_state(client.get("/profile/referrals/", **HX).content.decode())
    assert poll(client, held).status_code == 204

    with django_capture_on_commit_callbacks(execute=True):
        services.grant_approve(grant=grant_for(friends[1]))
    answer = poll(client, held)

    html = answer.content.decode()
    assert answer.status_code == 200
    assert answer["HX-Retarget"] == "#referral-list" and answer["HX-Reswap"] == "afterbegin"
    # The rows shown come back by id, in place; none is added on top.
    swapped = re.findall(r'<li class="referral" id="(referral-\w+)"[^>]*hx-swap-oob="true"', html)
    assert len(swapped) == 3
    assert row_states(html)[str(friends[1].phone)] == "approved"
    assert '<div id="referrals-panels" class="referrals-panels" hx-swap-oob="true">' in html
    assert totals(html) == {"pending": 200, "approved": 100, "fulfilled": 0}
    assert "A new member joined" not in html
    assert "Your referrals list was updated." in html  # for screen readers, out of band
    new_state = list_state(html)
    assert new_state["v"] != held["v"] and new_state["since"] == held["since"]
    assert new_state["total"] == "3"
    assert poll(client, new_state).status_code == 204
    # The ids are the ones the full list gave its rows.
    full = client.get("/profile/").content.decode()
    assert set(swapped) <= set(re.findall(r'id="(referral-\w+)"', full))
    assert row_states(full)[str(friends[1].phone)] == "approved"


def test_a_new_member_and_a_changed_grant_arrive_in_one_answer(
    program, activate, make_member, inviter, django_capture_on_commit_callbacks
):
    program()
    first = make_member()
    activate(first, inviter)
    client = signed_in(inviter)
    held = list_state(client.get("/profile/").content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        services.grant_void(grant=grant_for(first), reason=Grant.VoidReason.REFERRAL_LEFT)
    newcomer = make_member()
    activate(newcomer, inviter)
    html = poll(client, held).content.decode()

    top, _, rest = html.partition("hx-swap-oob")
    assert str(newcomer.phone) in top and 'data-reward-state="pending"' in top
    assert row_states(html) == {str(newcomer.phone): "pending", str(first.phone): "voided"}
    assert "voided: your friend deleted their account" in html
    assert totals(html)["pending"] == 100
    assert "A new member joined with your code. Total: 2." in html


def test_a_flag_opening_puts_the_row_on_review_on_the_next_poll(
    program, activate, make_member, inviter, django_capture_on_commit_callbacks
):
    program()
    friend = make_member()
    activate(friend, inviter)
    client = signed_in(inviter)
    held = list_state(client.get("/profile/").content.decode())

    now = timezone.now()
    FraudFlag.objects.create(reason="burst", inviter=inviter, subject=friend,
                             raised_at=now, updated_at=now)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.versions_bump_after_commit(member_ids=[inviter.pk])

    assert row_states(poll(client, held).content.decode()) == {str(friend.phone): "on_hold"}


def test_an_expanded_list_gets_only_the_rows_it_shows_back(
    program, activate, make_member, inviter, django_capture_on_commit_callbacks
):
    program()
    friends = [make_member() for _ in range(53)]
    for friend in friends:
        activate(friend, inviter)
    client = signed_in(inviter)
    first_page = client.get("/profile/").content.decode()
    held = list_state(first_page)
    until = re.search(r'name="until" value="([^"]+)"', first_page).group(1)

    with django_capture_on_commit_callbacks(execute=True):
        services.grant_approve(grant=grant_for(friends[0]))  # the oldest: not shown yet
        services.grant_approve(grant=grant_for(friends[-1]))

    collapsed = poll(client, {**held, "until": until}).content.decode()
    assert len(row_states(collapsed)) == 50 and str(friends[0].phone) not in collapsed
    assert row_states(collapsed)[str(friends[-1].phone)] == "approved"
    # Opened to the end (no Show more row, so no `until`): every row comes back.
    expanded = poll(client, held).content.decode()
    assert row_states(expanded)[str(friends[0].phone)] == "approved"
    assert len(row_states(expanded)) == 53


def test_show_more_rows_carry_their_rewards(program, activate, make_member, inviter):
    program()
    friends = [make_member() for _ in range(52)]
    for friend in friends:
        activate(friend, inviter)
    client = signed_in(inviter)
    html = client.get("/profile/referrals/", **HX).content.decode()
    more = re.search(r'hx-get="(/profile/referrals/\?before=[^"]+)"', html).group(1)

    rest = client.get(more.replace("&amp;", "&"), **HX).content.decode()

    assert set(row_states(rest).values()) == {"pending"} and len(row_states(rest)) == 2
    assert "data-reward=" not in rest


def test_a_member_s_own_reward_changing_refreshes_their_empty_list_quietly(
    program, activate, make_member, django_capture_on_commit_callbacks
):
    program()
    owner, member = make_member(), make_member()
    activate(member, owner)
    client = signed_in(member)
    held = list_state(client.get("/profile/").content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        services.grant_approve(grant=Grant.objects.get(kind=Grant.Kind.FRIEND, member=member))
    html = poll(client, held).content.decode()

    assert totals(html) == {"pending": 0, "approved": 50, "fulfilled": 0}
    assert "A new member joined" not in html


def test_without_javascript_the_referrals_page_shows_it_all(
    program, activate, make_member, inviter
):
    program(milestones={2: 500})
    friend = make_member()
    activate(friend, inviter)

    html = signed_in(inviter).get("/profile/referrals/").content.decode()

    assert totals(html) == {"pending": 100, "approved": 0, "fulfilled": 0}
    assert "1 more friend → 500 points" in html
    assert row_states(html) == {str(friend.phone): "pending"}


def test_a_pending_reward_past_its_hold_says_it_is_coming(program, activate, make_member, inviter):
    program(hold_days=0)
    activate(make_member(), inviter)
    Grant.objects.update(available_at=timezone.now() - timedelta(minutes=1))

    html = signed_in(inviter).get("/profile/").content.decode()

    assert "pending, available soon" in html


def test_a_milestone_paid_before_a_referral_left_is_not_offered_again(
    program, activate, make_member, inviter
):
    program(milestones={2: 500, 5: 900})
    friends = [make_member() for _ in range(2)]
    for friend in friends:
        activate(friend, inviter)
    friends[0].delete()  # the count drops to 1; the milestone at 2 stays paid

    html = signed_in(inviter).get("/profile/").content.decode()

    assert re.search(r'data-next-milestone="4">\s*4 more friends → 900 points', html)


def test_without_a_program_or_grants_the_rewards_cost_one_query(make_member, activate, inviter):
    activate(make_member(), inviter)
    client = signed_in(inviter)
    client.get("/profile/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get("/profile/")
        return len(captured)

    with_rewards = queries()
    profile_extras.disconnect(dispatch_uid="rewards.profile_extras")
    try:
        without_rewards = queries()
    finally:
        profile_extras.connect(profile_panel, dispatch_uid="rewards.profile_extras")
    assert with_rewards - without_rewards == 1
