"""`python manage.py operator_key create NAME | list | revoke PREFIX`.

Prints `key=value` lines (or one JSON object with --json); a new key is shown
once, here, and stored only as a hash.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework_api_key.models import APIKey


class Command(BaseCommand):
    help = "Create, list or revoke API keys of the operator API (Authorization: Api-Key <key>)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON instead of key=value")
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="a new key; printed once")
        create.add_argument("name")
        actions.add_parser("list", help="every key: prefix, name, revoked, created")
        revoke = actions.add_parser("revoke", help="stop a key working, for good")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            api_key, key = APIKey.objects.create_key(name=options["name"][:50])
            self._print([{**_describe(api_key), "key": key}], options)
        elif action == "list":
            self._print([_describe(k) for k in APIKey.objects.order_by("created")], options)
        else:
            updated = APIKey.objects.filter(prefix=options["prefix"]).update(revoked=True)
            if not updated:
                raise CommandError(f"No API key with prefix {options['prefix']!r}.")
            self._print([_describe(APIKey.objects.get(prefix=options["prefix"]))], options)

    def _print(self, rows: list[dict[str, Any]], options: dict[str, Any]) -> None:
        if options["json"]:
            one = rows[0] if options["action"] != "list" else rows
            self.stdout.write(json.dumps(one))
            return
        for index, row in enumerate(rows):
            if index:
                self.stdout.write("")
            for name, value in row.items():
                shown = str(value).lower() if isinstance(value, bool) else value
                self.stdout.write(f"{name}={shown}")


def _describe(api_key: APIKey) -> dict[str, Any]:
    return {
        "prefix": api_key.prefix,
        "name": api_key.name,
        "revoked": api_key.revoked,
        "created": api_key.created.isoformat(),
    }
