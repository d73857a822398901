"""Deleting one account from several requests at once (a double tap, a retry)."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from events.models import Event
from profiles.models import MemberDeletion, User
from tests.conftest import run_in_parallel

# Parallel connections and row locks: SQLite (one writer, one connection in tests) cannot.
pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
def test_parallel_deletions_delete_once_and_never_answer_500(make_member):
    # Found by the review: each parallel request recorded and published the deletion
    # again, and one that re-read the gone row answered 500.
    inviter, member = make_member("+79991260001"), make_member("+79991260002")
    User.objects.filter(pk=member.pk).update(referred_by=inviter, activated_at=timezone.now())
    User.objects.filter(pk=inviter.pk).update(referrals_count=1)
    token = str(RefreshToken.for_user(member).access_token)

    def delete() -> int:
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        answer = client.delete("/api/v1/profile/", {"confirm": "+79991260002"}, format="json")
        return answer.status_code

    answers = run_in_parallel([delete] * 6)
    assert set(answers) <= {204, 401}, answers
    assert MemberDeletion.objects.count() == 1
    assert Event.objects.filter(type="member.deleted").count() == 1
    assert User.objects.get(pk=inviter.pk).referrals_count == 0
