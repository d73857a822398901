"""A NUL byte in a query or form value is a 400 for every view, never a 500."""

import pytest

from core.staff import PASSWORD_BACKEND
from profiles.models import User
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_an_admin_list_filter_with_a_nul_byte_is_a_400(client):
    operator = User.objects.create_superuser("+79990000071", "a-long-operator-password")
    client.force_login(operator, backend=PASSWORD_BACKEND)
    assert client.get("/admin/auth_flow/challenge/?state__exact=pending").status_code == 200
    assert client.get("/admin/auth_flow/challenge/?state__exact=%00").status_code == 400


@pytest.mark.parametrize("path", ["/?invite=%00", "/profile/referrals/?page=%00"])
def test_a_page_with_a_nul_byte_in_the_query_is_a_400(client, make_member, path):
    client.force_login(make_member())
    assert client.get(path).status_code == 400


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/auth/phone/", {"phone": "+7999\x001234567"}),
        ("/auth/code/", {"code": "12\x0034"}),
        ("/profile/invite/", {"invite_code": "AB\x00CDE"}),
    ],
)
def test_a_form_value_with_a_nul_byte_is_a_400(client, make_member, path, form):
    client.force_login(make_member())
    assert client.post(path, form).status_code == 400


def test_the_api_answers_a_nul_byte_in_its_error_shape(member_api):
    assert_error(member_api().get("/api/v1/profile/referrals/?page=%00"), 400, "bad_request")
