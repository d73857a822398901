"""The live list keeps what the member opened: new referrals arrive on top of an
expanded list, and "Show more" goes on from the oldest row shown."""

import re

import pytest
from django.test import Client

from core.staff import PHONE_CODE_BACKEND
from profiles.services import invite_activate

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def state(html: str) -> dict[str, str]:
    block = re.search(r'<div id="referrals-state".*?</div>', html, re.S).group(0)
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', block))


@pytest.fixture
def owner(make_member):
    member = make_member()
    for _ in range(53):
        invite_activate(user=make_member(), code=member.invite_code)
    member.refresh_from_db()
    return member


@pytest.fixture
def client_of(owner) -> Client:
    client = Client()
    client.force_login(owner, backend=PHONE_CODE_BACKEND)
    return client


def test_a_poll_after_new_arrivals_answers_only_their_rows_for_the_top(
    client_of, owner, make_member
):
    held = state(client_of.get("/profile/referrals/", **HX).content.decode())
    newcomers = [make_member(), make_member()]
    for newcomer in newcomers:
        invite_activate(user=newcomer, code=owner.invite_code)

    answer = client_of.get("/profile/referrals/", held, **HX)

    html = answer.content.decode()
    assert answer.status_code == 200
    assert answer["HX-Retarget"] == "#referral-list" and answer["HX-Reswap"] == "afterbegin"
    assert html.count('class="referral"') == 2, "only the new rows: the open list stays"
    assert html.index(str(newcomers[1].phone)) < html.index(str(newcomers[0].phone))
    assert 'data-referrals-count="55"' in html and 'hx-swap-oob="true"' in html
    new_state = state(html)
    assert new_state["total"] == "55" and new_state["v"] != held["v"]
    # The next poll with the new state is the cheap one again.
    assert client_of.get("/profile/referrals/", new_state, **HX).status_code == 204


def test_someone_leaving_sends_the_whole_list_again(client_of, owner, make_member):
    held = state(client_of.get("/profile/referrals/", **HX).content.decode())
    owner.referrals.order_by("activated_at").first().delete()

    answer = client_of.get("/profile/referrals/", held, **HX)

    assert "HX-Retarget" not in answer
    assert 'data-referrals-count="52"' in answer.content.decode()


def test_show_more_goes_on_from_the_oldest_row_shown_even_after_arrivals(
    client_of, owner, make_member
):
    html = client_of.get("/profile/referrals/", **HX).content.decode()
    more = re.search(r'hx-get="(/profile/referrals/\?before=[^"]+)"', html).group(1)
    shown = set(re.findall(r'data-referral-phone="([^"]+)"', html))
    invite_activate(user=make_member(), code=owner.invite_code)  # arrives on top meanwhile

    rest = client_of.get(more.replace("&amp;", "&"), **HX).content.decode()

    phones = re.findall(r'data-referral-phone="([^"]+)"', rest)
    assert len(phones) == 3 and not shown & set(phones), "no row repeated, none skipped"
    assert "Show more" not in rest


@pytest.mark.parametrize("junk", ["x", "2026-13-99T00:00:00", "1" * 60])
def test_a_bad_cursor_or_state_is_no_error(client_of, junk):
    assert client_of.get(f"/profile/referrals/?before={junk}", **HX).status_code == 200
    answer = client_of.get(f"/profile/referrals/?v=0&since={junk}&total={junk}", **HX)
    assert answer.status_code == 200
