"""Periodic housekeeping of sign-in, as jobs of the queue (the commands stay for manual use)."""

from importlib import import_module

from django.conf import settings
from procrastinate.contrib.django import app

from auth_flow.services import challenges_purge
from auth_flow.sms.budgets import budgets_purge


@app.periodic(cron="7 * * * *")
@app.task(name="auth_flow.challenges_purge", queue="housekeeping")
def challenges_purge_job(timestamp: int) -> int:
    """Hourly: challenges older than a day and the spent hourly SMS budget rows
    (`manage.py purge_challenges`). The console's code counts are rolled up every
    ten minutes (staff_console.code_counts_rollup), long before."""
    deleted = challenges_purge()
    budgets_purge()
    return deleted


@app.periodic(cron="37 3 * * *")
@app.task(name="auth_flow.sessions_clear", queue="housekeeping")
def sessions_clear(timestamp: int) -> None:
    """Daily: expired sessions, as `manage.py clearsessions` does."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
