"""The referrals poll and "Show more" with what a client may send: odd list state is
never a 500 nor another member's rows, and "Show more" is never taken for a poll."""

import re
from urllib.parse import unquote

import pytest
from django.test import Client

from core.staff import PHONE_CODE_BACKEND
from profiles.services import invite_activate

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}

ODD = [
    "",
    "-1",
    "9" * 5000,  # all digits, but int() refuses more than 4,300 of them
    "\u00b2",  # superscript two: a digit to str.isdigit(), not to int()
    "\u0663",  # Arabic-Indic three
    "\x00",
    "2026-13-45",
    "9999-12-31T23:59:59-23:59",  # an offset PostgreSQL refuses
    "0001-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "2026-12-01",
    "not a date",
]


def _state(html: str) -> dict[str, str]:
    block = re.search(r'<div id="referrals-state".*?</div>', html, re.S).group(0)
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', block))


def _signed_in(make_member, *, referrals: int):
    owner, stranger = make_member(), make_member()
    for _ in range(referrals):
        invite_activate(user=make_member(), code=owner.invite_code)
    stranger_referral = make_member()
    invite_activate(user=stranger_referral, code=stranger.invite_code)
    owner.refresh_from_db()
    client = Client()
    client.force_login(owner, backend=PHONE_CODE_BACKEND)
    return client, owner, str(stranger_referral.phone)


@pytest.mark.parametrize("name", ["since", "until", "total", "before"])
@pytest.mark.parametrize("value", ODD, ids=[repr(v)[:16] for v in ODD])
def test_odd_list_state_is_answered_never_with_a_500(make_member, name, value):
    client, owner, strangers = _signed_in(make_member, referrals=3)
    held = _state(client.get("/profile/referrals/", **HX).content.decode())
    # Someone joined since: the poll reads since/until/total to bring the list up to date.
    invite_activate(user=make_member(), code=owner.invite_code)
    answer = client.get("/profile/referrals/", {**held, name: value}, **HX)
    assert answer.status_code in (200, 204, 304, 400), answer.status_code
    assert strangers not in answer.content.decode()


@pytest.mark.parametrize("cached", [False, True], ids=["own-cache", "shared-cache"])
def test_show_more_brings_the_next_rows_whatever_list_state_comes_with_it(
    request, make_member, cached
):
    if cached:  # as deployed with REDIS_URL: the poll middleware answers unchanged polls
        request.getfixturevalue("shared_cache")
    client, owner, _ = _signed_in(make_member, referrals=53)
    html = client.get("/profile/").content.decode()
    held = _state(html)
    before = re.search(r'hx-get="/profile/referrals/\?before=([^"]+)"', html).group(1)
    # What htmx sends for the click: the link's URL and the list's state it inherits.
    answer = client.get("/profile/referrals/", {"before": unquote(before), **held}, **HX)
    assert answer.status_code == 200
    assert answer.content.decode().count('class="referral"') == 3
