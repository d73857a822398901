from django.core.management.base import BaseCommand

from fraud.services import flags_judge_all


class Command(BaseCommand):
    help = (
        "Judge new activations for fraud flags. Idempotent; the queue does the same "
        "after each activation (fraud.flags_judge). Rewards are approved only for "
        "activations judged."
    )

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: object, batch_size: int, **options: object) -> None:
        judged = flags_judge_all(batch_size=batch_size)
        self.stdout.write(f"Judged {judged} activation(s).")
