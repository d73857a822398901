from django.core.management.base import BaseCommand

from staff_console.services import code_counts_rollup, flags_refresh


class Command(BaseCommand):
    help = (
        "Judge new activations for fraud flags and roll up the daily code counts. "
        "Idempotent; the console does the same on load. Run it before purge_challenges."
    )

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: object, batch_size: int, **options: object) -> None:
        judged = 0
        while (read := flags_refresh(limit=batch_size)) == batch_size:
            judged += read
        judged += read
        counted = code_counts_rollup()
        self.stdout.write(f"Judged {judged} activation(s); counted {counted} code(s).")
