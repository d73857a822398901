from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from profiles.models import User
from profiles.selectors import profile_get, referrals_page, referrals_version
from profiles.services import invite_activate, invite_code_generate

pytestmark = pytest.mark.django_db


def add_referrals(owner: User, count: int, new_phone) -> list[User]:
    """Bulk-made referrals, activated one minute apart (the last is the newest).

    The owner's stored count is brought up to date as activations would (a bulk
    insert bypasses them), and `owner` is refreshed.
    """
    start = timezone.now() - timedelta(days=1)
    members = [
        User(
            phone=new_phone(),
            invite_code=invite_code_generate(),
            referred_by=owner,
            activated_at=start + timedelta(minutes=i),
        )
        for i in range(count)
    ]
    created = User.objects.bulk_create(members)
    User.objects.filter(pk=owner.pk).update(
        referrals_count=F("referrals_count") + count, referrals_changes=F("referrals_changes") + 1
    )
    owner.refresh_from_db()
    return created


def test_referrals_are_newest_first_with_their_dates(make_member):
    owner = make_member()
    joined = []
    for _ in range(3):
        member = make_member()
        invite_activate(user=member, code=owner.invite_code)
        joined.append(member)
    owner.refresh_from_db()  # as a request loads its member
    page = referrals_page(user=owner)
    assert [r.phone for r in page] == [str(m.phone) for m in reversed(joined)]
    assert all(r.joined_at for r in page)
    assert page.paginator.count == 3


def test_referrals_are_paginated_fifty_at_a_time(make_member, new_phone):
    owner = make_member()
    add_referrals(owner, 120, new_phone)
    first, third = referrals_page(user=owner, number=1), referrals_page(user=owner, number=3)
    assert len(first) == 50 and first.has_next()
    assert len(third) == 20 and not third.has_next()


def test_someone_elses_referrals_are_not_mine(make_member):
    owner, other, member = make_member(), make_member(), make_member()
    invite_activate(user=member, code=other.invite_code)
    assert referrals_page(user=owner).paginator.count == 0


def test_profile_query_count_does_not_grow_with_referrals(make_member, new_phone):
    counts = {}
    for referrals in (0, 10, 300):
        owner = make_member()
        add_referrals(owner, referrals, new_phone)
        with CaptureQueriesContext(connection) as queries:
            summary = profile_get(user=owner)
            assert len(list(summary.referrals)) == min(referrals, 50)
            referrals_version(user=owner)
        counts[referrals] = len(queries)
    # The count and the version are on the member's row; on PostgreSQL the
    # profile is one query (SQLite, for `make run`, reads the member and the rows).
    assert len(set(counts.values())) == 1
    if connection.vendor == "postgresql":
        assert counts[0] == 1


def test_version_changes_when_a_referral_arrives(make_member):
    owner = make_member()
    before = referrals_version(user=owner)
    assert referrals_version(user=owner) == before
    invite_activate(user=make_member(), code=owner.invite_code)
    owner.refresh_from_db()
    assert referrals_version(user=owner) != before


def test_the_portable_profile_for_sqlite_equals_the_one_query_profile(make_member, new_phone):
    """`make run` (SQLite) takes the ORM path; here both run on the same rows."""
    from profiles.selectors import _profile_get_portable

    owner, inviter, inactive = make_member(), make_member(), make_member()
    invite_activate(user=owner, code=inviter.invite_code)
    add_referrals(owner, 3, new_phone)
    User.objects.filter(pk=inactive.pk).update(is_active=False)

    def shown(summary):  # noqa: ANN001, ANN202 - a ProfileSummary or None
        if summary is None:
            return None
        page = summary.referrals
        fields = {k: v for k, v in vars(summary).items() if k != "referrals"}
        return fields, list(page.object_list), page.paginator.count, page.has_next()

    for member in (owner, inviter, make_member(), inactive):
        assert shown(_profile_get_portable(member_id=member.pk)) == shown(profile_get(user=member))
    assert shown(profile_get(user=owner))[2] == 3
