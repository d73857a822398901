"""The seam other rooms hook into the referrals list with (profiles/extras.py): profiles
renders their panels and row notes without knowing whose they are."""

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client

from core.staff import PHONE_CODE_BACKEND
from profiles.extras import Extra, ProfileExtras
from profiles.services import invite_activate
from profiles.signals import profile_extras

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
TEMPLATE = "profiles_test/extras.html"


@pytest.fixture
def test_templates(settings):
    engine = {**django_settings.TEMPLATES[0]}
    engine["DIRS"] = [*engine["DIRS"], django_settings.BASE_DIR / "tests/profiles/templates"]
    settings.TEMPLATES = [engine, *django_settings.TEMPLATES[1:]]


@pytest.fixture
def answering(test_templates):
    """A room that adds a panel and notes its rows by phone; what it was asked, kept."""
    asked = []

    def receiver(sender, member, phones, **kwargs):
        asked.append(list(phones))
        return ProfileExtras(
            panels=[Extra(f"{TEMPLATE}#panel", {"label": f"panel of {member.invite_code}"})],
            notes={
                phone: Extra(
                    f"{TEMPLATE}#note",
                    {"label": "noted"},
                    attrs={"data-test-state": "seen", "onclick": "alert(1)"},
                )
                for phone in phones
            },
        )

    profile_extras.connect(receiver, dispatch_uid="tests.extras")
    yield asked
    profile_extras.disconnect(dispatch_uid="tests.extras")


def test_panels_and_notes_render_on_the_profile_with_the_row_s_data_attributes(
    answering, make_member
):
    owner, friend = make_member(), make_member()
    invite_activate(user=friend, code=owner.invite_code)
    client = Client()
    client.force_login(owner, backend=PHONE_CODE_BACKEND)

    html = client.get("/profile/").content.decode()

    assert answering == [[str(friend.phone)]], "asked with the E.164 phones of the rows shown"
    assert f'data-test-panel="panel of {owner.invite_code}"' in html
    row = re.search(r'<li class="referral"[^>]*>.*?</li>', html, re.S).group(0)
    assert 'data-test-state="seen"' in row and '<span class="test-note">noted</span>' in row
    assert "onclick" not in row, "only data-* attributes reach the row"


def test_a_fragment_without_rows_or_panels_asks_no_room(answering, make_member):
    client = Client()
    client.force_login(make_member(), backend=PHONE_CODE_BACKEND)

    client.get("/profile/invite/check/?invite_code=ABCDEF", **HX)

    assert answering == []


def test_someone_leaving_is_not_announced_as_an_arrival(make_member):
    owner = make_member()
    friends = [make_member() for _ in range(2)]
    for friend in friends:
        invite_activate(user=friend, code=owner.invite_code)
    client = Client()
    client.force_login(owner, backend=PHONE_CODE_BACKEND)
    html = client.get("/profile/referrals/", **HX).content.decode()
    held = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    friends[0].delete()

    answer = client.get("/profile/referrals/", held, **HX).content.decode()

    assert 'data-referrals-count="1"' in answer and "A new member joined" not in answer
