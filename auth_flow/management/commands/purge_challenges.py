from django.core.management.base import BaseCommand

from auth_flow.services import challenges_purge
from auth_flow.sms.budgets import budgets_purge


class Command(BaseCommand):
    help = "Delete sign-in challenges older than a day (the longest limit window). Idempotent."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: object, batch_size: int, **options: object) -> None:
        deleted = challenges_purge(batch_size=batch_size)
        self.stdout.write(f"Deleted {deleted} challenge(s) older than a day.")
        # The hourly SMS budget rows too: a few dozen a day, useless after their hour.
        budgets_purge()
