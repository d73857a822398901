"""Recount every member's stored referral count from the rows, and report any drift."""

from typing import Any

from django.core.management.base import BaseCommand

from profiles.services import referrals_recount


class Command(BaseCommand):
    help = "Recount stored referral counts from the referrals themselves; report and repair drift."

    def handle(self, *args: Any, **options: Any) -> None:
        drift = referrals_recount()
        for pk, was, real in drift:
            self.stdout.write(f"member {pk}: stored {was}, counted {real} (repaired)")
        if drift:
            self.stderr.write(self.style.WARNING(f"{len(drift)} member(s) had drifted."))
        else:
            self.stdout.write(self.style.SUCCESS("All referral counts match."))
