"""Jobs of the fraud room: judging new activations, and the IP retention purge.

No console page judges on GET: each `referral.activated` event queues a judging
job, so a flag shows within seconds of the activation that trips it.
"""

import contextlib

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from events.models import Event
from fraud.services import flags_judge_all, ips_purge

JUDGE_LOCK = "fraud.flags_judge"


# One judging at a time (`lock`), and at most one waiting (`queueing_lock`): a
# burst of activations queues one job, which judges them all (every activation
# committed before it starts).
@app.task(
    name="fraud.flags_judge",
    queue="fraud",
    lock=JUDGE_LOCK,
    queueing_lock=JUDGE_LOCK,
    retry=RetryStrategy(max_attempts=10, exponential_wait=2),
)
def flags_judge() -> int:
    return flags_judge_all()


def flags_judge_queue() -> None:
    """Queue a judging unless one is waiting already (it will see the new activations)."""
    with contextlib.suppress(AlreadyEnqueued):
        flags_judge.defer()


def activation_handler(event: Event) -> None:
    """events.dispatch handler (fraud/apps.py): judge after every activation."""
    if event.type == "referral.activated":
        flags_judge_queue()


@app.periodic(cron="47 3 * * *")
@app.task(name="fraud.ips_purge", queue="fraud")
def member_ips_purge(timestamp: int) -> int:
    """Daily: recorded IPs past FRAUD_IP_RETENTION_DAYS (`manage.py purge_member_ips`)."""
    return ips_purge()
