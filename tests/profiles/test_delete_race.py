"""Deleting one account from several requests at once (a double tap, a retry)."""

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from events.models import Event
from profiles.errors import InviteError
from profiles.models import MemberDeletion, User
from profiles.services import invite_activate, member_delete, referrals_recount
from tests.conftest import rows_locked, run_in_parallel

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


def _activate(member: User, owner: User):
    return lambda: invite_activate(user=User.objects.get(pk=member.pk), code=owner.invite_code)


def _unexpected(results):
    return [
        r
        for r in results
        if isinstance(r, Exception) and not isinstance(r, InviteError | User.DoesNotExist)
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(2))
def test_a_middle_member_deleted_while_its_chain_takes_activations(make_member, attempt):
    """O -> X -> R, ids so that O < X < R (an older member joining a newer one's tree):
    deleting X (locks X and R, then sets O's inviter NULL) while members enter O's
    and R's codes (lock O and R in id order) must not deadlock, and nothing drifts."""
    o, x, r = make_member(), make_member(), make_member()
    invite_activate(user=User.objects.get(pk=x.pk), code=r.invite_code)
    invite_activate(user=User.objects.get(pk=o.pk), code=x.invite_code)
    joining = [make_member() for _ in range(6)]
    work = [_activate(m, o) for m in joining[:3]]
    work.append(
        lambda: member_delete(member=User.objects.get(pk=x.pk), confirm=str(x.phone), via="api")
    )
    work += [_activate(m, r) for m in joining[3:]]
    results = run_in_parallel(work)
    assert not _unexpected(results), results
    assert referrals_recount() == []


@pytest.mark.django_db(transaction=True)
def test_deleting_an_inviter_while_its_referral_takes_a_new_member_does_not_deadlock(make_member):
    """O -> X -> R with O < X < R. A third connection holds R's row, so the order is
    fixed: the deletion of X (referral_leave locks X, then R) queues on R first, then
    the activation M -> O locks O and queues on R. Released, the deletion gets R and
    then sets O's inviter NULL (Django's SET_NULL), which waits on the activation's O:
    a deadlock, one side failed with OperationalError (answered 503 as an outage).
    Found by the review; the deletion now locks the member's referrals with it."""
    o, x, r = make_member(), make_member(), make_member()
    assert o.pk < x.pk < r.pk
    invite_activate(user=User.objects.get(pk=x.pk), code=r.invite_code)
    invite_activate(user=User.objects.get(pk=o.pk), code=x.invite_code)
    m = make_member()
    results: dict[str, object] = {}

    def run(name, fn):
        def go():
            try:
                results[name] = fn()
            except Exception as error:  # noqa: BLE001
                results[name] = error
            finally:
                connection.close()

        t = threading.Thread(target=go)
        t.start()
        return t

    with rows_locked(User.objects.filter(pk=r.pk)):
        deleting = run(
            "delete",
            lambda: member_delete(
                member=User.objects.get(pk=x.pk), confirm=str(x.phone), via="api"
            ),
        )
        time.sleep(0.7)
        activating = run("activate", _activate(m, o))
        time.sleep(0.7)
    deleting.join(30)
    activating.join(30)
    assert not [
        v for v in results.values() if isinstance(v, Exception) and not isinstance(v, InviteError)
    ], results
    assert referrals_recount() == []
