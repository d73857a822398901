from django.conf import settings
from django.core.management.base import BaseCommand

from fraud.services import ips_purge


class Command(BaseCommand):
    help = "Forget sign-up and activation IPs older than FRAUD_IP_RETENTION_DAYS. Idempotent."

    def handle(self, *args: object, **options: object) -> None:
        cleared = ips_purge()
        self.stdout.write(
            f"Cleared {cleared} IP record(s) older than {settings.FRAUD_IP_RETENTION_DAYS} days."
        )
