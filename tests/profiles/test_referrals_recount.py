"""`manage.py referrals_recount`: the operator's check that stored counts match the rows."""

from io import StringIO

import pytest
from django.core.management import call_command

from profiles.models import User
from profiles.services import invite_activate

pytestmark = pytest.mark.django_db


def run() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("referrals_recount", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_says_all_counts_match(make_member):
    owner = make_member()
    invite_activate(user=make_member(), code=owner.invite_code)
    out, err = run()
    assert "All referral counts match." in out and err == ""


def test_the_command_reports_and_repairs_drift(make_member):
    owner = make_member()
    invite_activate(user=make_member(), code=owner.invite_code)
    User.objects.filter(pk=owner.pk).update(referrals_count=0)
    out, err = run()
    assert f"member {owner.pk}: stored 0, counted 1 (repaired)" in out
    assert "1 member(s) had drifted." in err
    owner.refresh_from_db()
    assert owner.referrals_count == 1
    assert "All referral counts match." in run()[0]
