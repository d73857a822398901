"""The flags screen: filter by reason, review and suspend by form post or htmx."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.staff import PASSWORD_BACKEND
from fraud.models import FraudFlag
from fraud.tasks import flags_judge

pytestmark = pytest.mark.django_db


@pytest.fixture
def raised(member_at):
    """An inviter with a fast activation and a sequential-phones block."""
    t = timezone.now() - timedelta(minutes=30)
    inviter = member_at(joined=t - timedelta(days=1))
    for n, phone in enumerate(("+79995551201", "+79995551202", "+79995551203")):
        member_at(phone=phone, inviter=inviter, joined=t, activated=t + timedelta(seconds=10 + n))
    flags_judge()  # the job each activation queues (test_no_get_writes.py: a real worker)
    return inviter


def test_flags_list_shows_each_reason_with_the_inviters_code(staff_client, raised):
    html = staff_client.get("/staff/flags/").content.decode()
    assert html.count('data-flag="fast_activation"') == 3
    assert html.count('data-flag="sequential_phones"') == 1
    assert f'data-inviter-code="{raised.invite_code}"' in html


def test_flags_filter_by_reason_as_a_page_and_as_a_fragment(staff_client, raised):
    html = staff_client.get("/staff/flags/?reason=sequential_phones").content.decode()
    assert 'data-flag="sequential_phones"' in html and 'data-flag="fast_activation"' not in html
    assert "<html" in html

    fragment = staff_client.get(
        "/staff/flags/?reason=fast_activation", headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<section id="flag-list"')
    assert 'data-flag="sequential_phones"' not in fragment
    assert fragment.count('data-flag="fast_activation"') == 3


def test_review_by_form_post_redirects_back_to_the_list(staff_client, raised, operator):
    flag = FraudFlag.objects.get(reason="sequential_phones")
    response = staff_client.post(
        f"/staff/flags/{flag.pk}/review/",
        {"status": "fraud", "next": "/staff/flags/?reason=sequential_phones"},
    )
    assert response.status_code == 303
    assert response["Location"] == "/staff/flags/?reason=sequential_phones"
    flag.refresh_from_db()
    assert (flag.status, flag.reviewed_by) == ("fraud", operator)


def test_review_by_htmx_swaps_the_flags_row(staff_client, raised):
    flag = FraudFlag.objects.get(reason="sequential_phones")
    response = staff_client.post(
        f"/staff/flags/{flag.pk}/review/",
        {"status": "reviewed"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/staff/flags/"},
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li id="flag-{flag.pk}"')
    assert 'data-status="reviewed"' in body
    assert 'name="next" value="/staff/flags/"' in body


def test_review_refuses_another_verdict_and_an_off_site_next(staff_client, raised):
    flag = FraudFlag.objects.get(reason="sequential_phones")
    url = f"/staff/flags/{flag.pk}/review/"
    assert staff_client.post(url, {"status": "open"}).status_code == 400
    response = staff_client.post(url, {"status": "reviewed", "next": "https://evil.example/"})
    assert response["Location"] == "/staff/flags/"


def test_review_and_suspend_need_the_csrf_token(operator, raised):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator, backend=PASSWORD_BACKEND)
    flag = FraudFlag.objects.first()
    assert client.post(f"/staff/flags/{flag.pk}/review/", {"status": "fraud"}).status_code == 403
    assert client.post(f"/staff/members/{raised.pk}/suspend/").status_code == 403
    raised.refresh_from_db()
    assert raised.is_active


def test_suspend_from_a_flag_shuts_the_inviter_out(staff_client, raised):
    flag = FraudFlag.objects.get(reason="sequential_phones")
    response = staff_client.post(
        f"/staff/members/{raised.pk}/suspend/",
        {"flag": flag.pk},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/staff/flags/"},
    )
    assert "data-member-suspended" in response.content.decode()
    raised.refresh_from_db()
    assert not raised.is_active and raised.suspended_at

    html = staff_client.get("/staff/").content.decode()
    assert f'data-suspended="{raised.invite_code}"' in html


def test_staff_cannot_suspend_themselves(staff_client, operator):
    assert staff_client.post(f"/staff/members/{operator.pk}/suspend/").status_code == 400


def test_members_admin_page_shows_their_flags(staff_client, raised, operator):
    operator.is_superuser = True  # the admin asks for the change permission
    operator.save(update_fields=["is_superuser"])
    operator_admin = staff_client.get(f"/admin/profiles/user/{raised.pk}/change/")
    html = operator_admin.content.decode()
    assert 'data-flag="sequential_phones"' in html
    assert "+79995551201" in html
