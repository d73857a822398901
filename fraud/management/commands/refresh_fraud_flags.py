from django.core.management.base import BaseCommand

from fraud.services import flags_refresh


class Command(BaseCommand):
    help = (
        "Judge new activations for fraud flags. Idempotent; the console does the same "
        "on load. Rewards are approved only for activations judged."
    )

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: object, batch_size: int, **options: object) -> None:
        judged = 0
        while (read := flags_refresh(limit=batch_size)) == batch_size:
            judged += read
        judged += read
        self.stdout.write(f"Judged {judged} activation(s).")
