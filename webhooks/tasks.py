"""The queue's webhook jobs: one delivery try per job, the overdue sweep, the purge.

Each delivery job tries its message once (webhooks.services.message_deliver); a
failed try queues the next one at its time on WEBHOOK_RETRY_SCHEDULE, in the
transaction that logs the attempt. A job whose worker dies is run again by the
queue's stalled-job recovery; the sweep below is the net under that.
"""

from procrastinate.contrib.django import app

from webhooks import services

QUEUE = "webhooks"


@app.task(name="webhooks.deliver", queue=QUEUE, pass_context=False)
def deliver(*, message_id: int) -> str:
    return services.message_deliver(message_id=message_id)


@app.periodic(cron="* * * * * */10", periodic_id="webhooks-overdue")
@app.task(name="webhooks.overdue_requeue", queue=QUEUE, pass_context=False)
def overdue_requeue(timestamp: int) -> int:
    return services.messages_overdue_requeue()


@app.periodic(cron="17 * * * *", periodic_id="webhooks-log-purge")
@app.task(name="webhooks.log_purge", queue=QUEUE, pass_context=False)
def log_purge(timestamp: int) -> int:
    return services.log_purge()
