"""The member's own data: the export (web and API) and deleting the account."""

import json

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from auth_flow.models import Challenge
from core.staff import PHONE_CODE_BACKEND
from profiles.member_data import data_section_register
from profiles.models import MemberDeletion, User
from profiles.services import invite_activate
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def signed_in_client(member: User) -> Client:
    client = Client()
    client.force_login(member, backend=PHONE_CODE_BACKEND)
    return client


def sign_in_by_code(client: Client, phone: str, outbox: list) -> None:
    client.post("/auth/phone/", {"phone": phone}, **HX)
    client.post("/auth/code/", {"code": outbox[-1].code}, **HX)


def bearer(member: User) -> tuple[APIClient, RefreshToken]:
    refresh = RefreshToken.for_user(member)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
    return api, refresh


@pytest.fixture
def family(make_member):
    """inviter <- member <- two friends."""
    inviter, member = make_member(), make_member()
    invite_activate(user=member, code=inviter.invite_code, ip="203.0.113.9")
    friends = [make_member(), make_member()]
    for friend in friends:
        invite_activate(user=friend, code=member.invite_code)
    User.objects.filter(pk=member.pk).update(signup_ip="198.51.100.4")
    member.refresh_from_db()
    return inviter, member, friends


def test_download_my_data_is_a_json_file_of_everything_kept(client, family, outbox):
    inviter, member, friends = family
    sign_in_by_code(client, str(member.phone), outbox)

    response = client.get("/profile/data/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    data = json.loads(response.content)
    assert data["phone"] == str(member.phone)
    assert data["invite_code"] == member.invite_code
    assert data["activated_invite_code"] == inviter.invite_code
    assert data["activated_at"].endswith("Z")
    assert {r["phone"] for r in data["referrals"]} == {str(f.phone) for f in friends}
    assert data["ip_addresses"] == {
        "first_sign_in": "198.51.100.4",
        "invite_activation": "203.0.113.9",
    }
    assert data["sign_in_codes"][0]["ip_address"] == "127.0.0.1"
    assert data["sign_in_codes"][0]["state"] == "used"
    assert "code_hash" not in json.dumps(data)


def test_other_apps_add_their_sections_through_the_hook(family):
    _, member, _ = family
    data_section_register("another_app", lambda m: [{"member": m.invite_code, "amount": 100}])
    try:
        body = bearer(member)[0].get("/api/v1/profile/export/").json()
    finally:
        from profiles import member_data

        member_data._sections.pop("another_app")
    assert body["another_app"] == [{"member": member.invite_code, "amount": 100}]
    assert body["phone"] == str(member.phone)


def test_the_data_download_needs_a_member(client):
    assert client.get("/profile/data/").status_code == 302


def test_deleting_needs_the_members_own_phone(family):
    _, member, _ = family
    client = signed_in_client(member)

    for wrong in ("", "yes", "+79990000000", str(member.phone) + "1"):
        response = client.post("/profile/delete/", {"confirm": wrong})
        assert response.status_code == 422
        assert "type your own phone number" in response.content.decode()
    assert User.objects.filter(pk=member.pk).exists()
    assert not MemberDeletion.objects.exists()


def test_a_forged_delete_request_is_refused(family):
    _, member, _ = family
    client = Client(enforce_csrf_checks=True)
    client.force_login(member, backend=PHONE_CODE_BACKEND)

    response = client.post("/profile/delete/", {"confirm": str(member.phone)})

    assert response.status_code == 403
    assert User.objects.filter(pk=member.pk).exists()


def test_deleting_removes_the_member_and_what_is_kept_about_them(family, outbox):
    inviter, member, friends = family
    phone = str(member.phone)
    client = Client()
    sign_in_by_code(client, phone, outbox)
    other_session = signed_in_client(member)
    api, refresh = bearer(member)
    AccessAttempt.objects.create(
        username=phone, ip_address="203.0.113.1", failures_since_start=1, user_agent="x"
    )
    assert Challenge.objects.filter(phone=phone).exists()

    response = client.post("/profile/delete/", {"confirm": "8 " + phone[2:]})  # any spelling

    assert response.status_code == 302 and response.url == "/profile/deleted/"
    assert "Your account is deleted" in client.get(response.url).content.decode()
    assert not User.objects.filter(pk=member.pk).exists()
    assert client.get("/profile/").status_code == 302
    assert other_session.get("/profile/").status_code == 302, "every session ends"
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()
    refreshed = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": str(refresh)}, format="json"
    )
    assert refreshed.status_code == 401
    assert api.get("/api/v1/profile/").status_code == 401
    assert not Challenge.objects.filter(phone=phone).exists()
    assert not AccessAttempt.objects.filter(username=phone).exists()
    inviter.refresh_from_db()
    assert inviter.referrals_count == 0
    for friend in friends:
        friend.refresh_from_db()
        assert friend.referred_by_id is None and friend.activated_at is not None
    record = MemberDeletion.objects.get()
    assert (record.via, record.referrals, record.had_inviter) == ("web", 2, True)


def test_the_api_deletes_only_with_the_e164_phone(family):
    inviter, member, _ = family
    api, _ = bearer(member)

    assert_error(api.delete("/api/v1/profile/"), 400, "delete_not_confirmed")
    wrong = api.delete("/api/v1/profile/", {"confirm": "+79990000000"}, format="json")
    assert_error(wrong, 400, "delete_not_confirmed", field="confirm")
    not_text = api.delete("/api/v1/profile/", {"confirm": ["x"]}, format="json")
    assert_error(not_text, 400, "delete_not_confirmed")
    assert User.objects.filter(pk=member.pk).exists()

    done = api.delete("/api/v1/profile/", {"confirm": str(member.phone)}, format="json")

    assert done.status_code == 204
    assert not User.objects.filter(pk=member.pk).exists()
    assert MemberDeletion.objects.get().via == "api"
    inviter.refresh_from_db()
    assert inviter.referrals_count == 0


def test_staff_accounts_are_not_deleted_from_the_profile():
    operator = User.objects.create_user("+79990000002", "a-long-operator-password", is_staff=True)
    api, _ = bearer(operator)
    body = api.delete("/api/v1/profile/", {"confirm": str(operator.phone)}, format="json")
    assert_error(body, 403, "delete_staff_account")
    assert User.objects.filter(pk=operator.pk).exists()


def test_the_api_export_is_the_same_document(family):
    _, member, friends = family
    body = bearer(member)[0].get("/api/v1/profile/export/").json()
    assert body["phone"] == str(member.phone)
    assert len(body["referrals"]) == len(friends)


def test_a_deletion_through_the_api_publishes_member_deleted_once(family):
    from events.models import Event

    _, member, _ = family
    pk, phone = member.pk, str(member.phone)
    bearer(member)[0].delete("/api/v1/profile/", {"confirm": phone}, format="json")

    (event,) = Event.objects.filter(type="member.deleted")
    assert event.data["member_id"] == pk
