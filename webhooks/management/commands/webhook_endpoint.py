"""Webhook endpoints from the shell: add, list, disable, enable, rotate, rekey.

    python manage.py webhook_endpoint add https://example.com/hooks \
        --events member.created,referral.activated
    id=1
    secret=whsec_...

`--json` prints one JSON object instead. The secret is shown once: it is stored
encrypted under WEBHOOK_SECRET_KEY and never printed again (`rotate` makes a new
one; the old one still signs for 24 hours).
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from webhooks import services
from webhooks.models import Endpoint
from webhooks.selectors import endpoint_list


class Command(BaseCommand):
    help = "Manage webhook endpoints: add, list, disable, enable, rotate, rekey."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Add an endpoint; prints its id and signing secret.")
        add.add_argument("url")
        add.add_argument(
            "--events",
            required=True,
            help="Comma-separated event types, or * for every one.",
        )
        add.add_argument("--description", default="")
        add.add_argument("--json", action="store_true")
        listing = actions.add_parser("list", help="Every endpoint.")
        listing.add_argument("--json", action="store_true")
        for name, text in (
            ("disable", "Stop sending to an endpoint."),
            ("enable", "Send to an endpoint again."),
            ("rotate", "A new signing secret (the old one signs too for 24 hours)."),
        ):
            action = actions.add_parser(name, help=text)
            action.add_argument("id", type=int)
            action.add_argument("--json", action="store_true")
        actions.add_parser(
            "rekey", help="Re-encrypt every secret under the first WEBHOOK_SECRET_KEY."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"_{action}")(options)
        except DomainError as error:
            raise CommandError(str(error.message)) from error

    def _emit(self, options: dict[str, Any], fields: dict[str, Any]) -> None:
        if options.get("json"):
            self.stdout.write(json.dumps(fields))
            return
        for key, value in fields.items():
            if isinstance(value, list):
                value = ",".join(value)
            self.stdout.write(f"{key}={value}")

    def _endpoint(self, options: dict[str, Any]) -> Endpoint:
        endpoint = Endpoint.objects.filter(pk=options["id"]).first()
        if endpoint is None:
            raise CommandError(f"No webhook endpoint with id {options['id']}.")
        return endpoint

    def _add(self, options: dict[str, Any]) -> None:
        endpoint, secret = services.endpoint_create(
            url=options["url"], event_types=options["events"], description=options["description"]
        )
        self._emit(
            options,
            {
                "id": endpoint.pk,
                "secret": secret,
                "url": endpoint.url,
                "events": endpoint.event_types,
            },
        )

    def _list(self, options: dict[str, Any]) -> None:
        rows = [
            {
                "id": endpoint.pk,
                "url": endpoint.url,
                "events": endpoint.event_types,
                "enabled": endpoint.enabled,
                "disabled_reason": endpoint.disabled_reason,
                "pending": endpoint.pending_count,
                "failed": endpoint.failed_count,
            }
            for endpoint in endpoint_list()
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        for row in rows:
            state = "enabled" if row["enabled"] else f"disabled ({row['disabled_reason']})"
            self.stdout.write(
                f"id={row['id']} url={row['url']} events={','.join(row['events'])} "
                f"{state} pending={row['pending']} failed={row['failed']}"
            )

    def _disable(self, options: dict[str, Any]) -> None:
        endpoint = services.endpoint_disable(endpoint=self._endpoint(options))
        self._emit(options, {"id": endpoint.pk, "enabled": False})

    def _enable(self, options: dict[str, Any]) -> None:
        endpoint = services.endpoint_enable(endpoint=self._endpoint(options))
        self._emit(options, {"id": endpoint.pk, "enabled": True})

    def _rotate(self, options: dict[str, Any]) -> None:
        endpoint = self._endpoint(options)
        secret = services.endpoint_rotate(endpoint=endpoint)
        self._emit(options, {"id": endpoint.pk, "secret": secret})

    def _rekey(self, options: dict[str, Any]) -> None:
        self.stdout.write(f"reencrypted={services.secrets_rekey()}")
