"""challenges_purge: old challenges go, in batches."""

import pytest

from auth_flow.models import Challenge
from auth_flow.services import challenges_purge
from tests.auth_flow.helpers import issue

pytestmark = pytest.mark.django_db


def test_purge_deletes_only_challenges_older_than_a_day(new_phone, outbox, age_challenges):
    old, fresh = new_phone(), new_phone()
    issue(old, outbox)
    issue(fresh, outbox)
    age_challenges(old, 24 * 3600 + 60)
    assert challenges_purge(batch_size=1) == 1
    assert challenges_purge() == 0
    assert list(Challenge.objects.values_list("phone", flat=True)) == [fresh]
