from typing import Any

from django.core.management.base import BaseCommand

from rewards.services import grants_approve_due


class Command(BaseCommand):
    help = (
        "Approve pending rewards whose hold has passed, once the fraud judging has read "
        "their activation and no open flag holds them. Idempotent; the queue runs it too."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        approved = grants_approve_due()
        self.stdout.write(f"approved={approved}")
