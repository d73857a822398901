"""`manage.py rewards_program` sets the program for scripts and prints it;
`manage.py approve_rewards` runs the approval job."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rewards.models import Program

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("rewards_program", *args, stdout=out)
    return out.getvalue()


def test_the_issue_example_sets_the_program_and_prints_key_value_lines():
    out = run(
        "--referrer", "100", "--friend", "50", "--milestone", "3=500", "--milestone", "10=2000",
        "--unit", "points", "--hold-days", "0", "--monthly-cap", "5", "--total-cap", "20",
    )  # fmt: skip
    assert out.splitlines() == [
        "referrer=100",
        "friend=50",
        "milestones=3=500,10=2000",
        "unit=points",
        "hold_days=0",
        "monthly_cap=5",
        "total_cap=20",
    ]
    assert Program.objects.count() == 1


def test_json_and_partial_changes_keep_the_rest():
    run("--referrer", "100", "--milestone", "3=500")
    shown = json.loads(run("--friend", "7", "--total-cap", "none", "--json"))
    assert shown == {
        "referrer": 100,
        "friend": 7,
        "milestones": [{"referrals": 3, "amount": 500}],
        "unit": "points",
        "hold_days": 14,
        "monthly_cap": None,
        "total_cap": None,
    }
    assert Program.objects.count() == 1


def test_if_none_leaves_a_program_staff_set_alone():
    run("--referrer", "300")
    assert "referrer=300" in run("--if-none", "--referrer", "100")


def test_bad_input_is_a_clear_error():
    with pytest.raises(CommandError, match="COUNT=AMOUNT"):
        run("--milestone", "3:500")
    with pytest.raises(CommandError, match="No rewards program"):
        run()
    with pytest.raises(CommandError):
        run("--referrer", "1", "--milestone", "0=5")


def test_approve_rewards_prints_how_many():
    out = StringIO()
    call_command("approve_rewards", stdout=out)
    assert out.getvalue().strip() == "approved=0"
