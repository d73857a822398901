"""Periodic jobs of the console: the daily code counts (no console page writes on GET)."""

from procrastinate.contrib.django import app

from staff_console.services import code_counts_rollup


@app.periodic(cron="*/10 * * * *")
@app.task(name="staff_console.code_counts_rollup", queue="housekeeping")
def code_counts_rollup_job(timestamp: int) -> int:
    """Every ten minutes: settled challenges into the daily counts per provider
    (`manage.py rollup_code_counts`), well before purge_challenges deletes them."""
    return code_counts_rollup()
