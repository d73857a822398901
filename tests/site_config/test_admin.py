"""The operator's admin: members with who invited them, challenges as read-only evidence."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from auth_flow.models import Challenge
from auth_flow.services import challenge_issue
from core.phones import phone_display
from profiles.models import User
from profiles.services import invite_activate

MEMBERS = "/admin/profiles/user/"


@pytest.fixture
def operator(client):
    admin = User.objects.create_superuser("+79990000001", "a-long-operator-password")
    client.force_login(admin)
    return admin


def _invite_circle(make_member, size):
    """An inviter and `size` members who entered their code."""
    inviter = make_member()
    for _ in range(size):
        invite_activate(user=make_member(), code=inviter.invite_code)
    return inviter


def _member_row(page, member):
    rows = re.findall(r"<tr>.*?</tr>", page.split('id="result_list"', 1)[1], re.S)
    shown = phone_display(member.phone)
    (row,) = [row for row in rows if f">{shown}<" in row.split("field-referred_by")[0]]
    return row


def _changelist_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(MEMBERS).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_member_list_query_count_does_not_grow_with_members(client, operator, make_member):
    _invite_circle(make_member, 2)
    few = _changelist_queries(client)

    for _ in range(5):
        _invite_circle(make_member, 3)
    many = _changelist_queries(client)

    assert User.objects.count() > 20
    assert many == few


@pytest.mark.django_db
def test_member_list_shows_who_invited_each_member_and_their_referral_count(
    client, operator, make_member
):
    inviter = _invite_circle(make_member, 2)
    invitee = inviter.referrals.first()

    page = client.get(MEMBERS).content.decode()

    inviter_row, invitee_row = (_member_row(page, member) for member in (inviter, invitee))
    assert '<td class="field-referral_count">2</td>' in inviter_row
    assert phone_display(inviter.phone) in invitee_row.split('class="field-referred_by', 1)[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "term", ["phone", "phone_as_listed", "phone_national", "invite_code", "invite_code_lower"]
)
def test_members_are_found_by_phone_or_invite_code(client, operator, make_member, term):
    wanted, other = make_member(), make_member()
    national = "8" + str(wanted.phone)[2:]
    query = {
        "phone": str(wanted.phone),
        # What the list shows is what an operator copies back into the search box.
        "phone_as_listed": phone_display(wanted.phone),
        "phone_national": f"{national[0]} ({national[1:4]}) {national[4:7]}-{national[7:]}",
        "invite_code": wanted.invite_code,
        "invite_code_lower": wanted.invite_code.lower(),
    }[term]

    page = client.get(MEMBERS, {"q": query}).content.decode()

    assert phone_display(wanted.phone) in page
    assert phone_display(other.phone) not in page


@pytest.mark.django_db
def test_member_list_and_change_page_show_phones_as_people_read_them(client, operator, make_member):
    member = make_member("+79991234567")

    listed = client.get(MEMBERS).content.decode()
    changed = client.get(f"{MEMBERS}{member.pk}/change/").content.decode()

    assert '<th class="field-phone_shown"><a href=' in listed
    assert ">+7 999 123-45-67</a>" in listed
    assert "<h2>+7 999 123-45-67</h2>" in changed
    assert "<title>+7 999 123-45-67 |" in changed


@pytest.mark.django_db
def test_operator_adds_a_member_with_a_phone_and_gets_an_invite_code(client, operator):
    response = client.post(
        f"{MEMBERS}add/",
        {
            "phone": "+7 999 555-44-33",
            "password1": "x9-long-pass-word",
            "password2": "x9-long-pass-word",
        },
    )

    assert response.status_code == 302, response.content.decode()
    member = User.objects.get(phone="+79995554433")
    assert len(member.invite_code) == 6


@pytest.mark.django_db
def test_createsuperuser_takes_a_phone(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-operator-password")

    call_command("createsuperuser", "--noinput", "--phone", "+7 999 000-00-02", verbosity=0)

    admin = User.objects.get(phone="+79990000002")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("a-long-operator-password")
    assert admin.invite_code


@pytest.mark.django_db
def test_challenges_can_be_viewed_but_not_added_changed_or_deleted(client, operator, new_phone):
    challenge_issue(phone=new_phone(), ip="203.0.113.9")
    challenge = Challenge.objects.get()
    change_url = f"/admin/auth_flow/challenge/{challenge.pk}/change/"

    listed = client.get("/admin/auth_flow/challenge/")
    viewed = client.get(change_url)

    assert listed.status_code == 200
    assert f">{phone_display(challenge.phone)}</a></th>" in listed.content.decode()
    assert viewed.status_code == 200
    assert 'name="_save"' not in viewed.content.decode()
    assert challenge.code_hash not in viewed.content.decode()
    assert client.post(change_url, {"state": "used", "used_at": timezone.now()}).status_code == 403
    assert client.get("/admin/auth_flow/challenge/add/").status_code == 403
    deleted = client.post(f"/admin/auth_flow/challenge/{challenge.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    assert Challenge.objects.filter(pk=challenge.pk, state=Challenge.State.PENDING).exists()
