from django.core.management.base import BaseCommand

from staff_console.services import code_counts_rollup


class Command(BaseCommand):
    help = (
        "Roll up the daily code counts per SMS provider. Idempotent; a periodic job "
        "does the same every ten minutes. Run it before purge_challenges, which deletes "
        "the challenges."
    )

    def handle(self, *args: object, **options: object) -> None:
        counted = code_counts_rollup()
        self.stdout.write(f"Counted {counted} code(s).")
