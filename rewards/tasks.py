"""Periodic job of rewards: approvals of grants whose hold has passed."""

from procrastinate.contrib.django import app

from rewards.services import grants_approve_due


@app.periodic(cron="*/15 * * * *")
@app.task(name="rewards.grants_approve_due", queue="housekeeping")
def grants_approve_due_job(timestamp: int) -> int:
    """Every 15 minutes (`manage.py approve_rewards` by hand): a grant is approved at
    most a quarter of an hour after its hold has passed and its activation was judged."""
    return grants_approve_due()
