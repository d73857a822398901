import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rewards.selectors import program_active
from rewards.services import UNSET, program_set


def _milestone(value: str) -> tuple[int, int]:
    count, sep, amount = value.partition("=")
    try:
        if not sep:
            raise ValueError
        return int(count), int(amount)
    except ValueError:
        raise CommandError(f"--milestone wants COUNT=AMOUNT, e.g. 3=500 (got {value!r})") from None


def _cap(value: str) -> int | None:
    if value.lower() in ("", "none", "off"):
        return None
    return int(value)


class Command(BaseCommand):
    help = (
        "Set the rewards program from flags (what is not given stays) and print it as "
        "key=value lines (--json: one JSON object). Without flags: print it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--referrer", type=int, help="reward per activated referral")
        parser.add_argument("--friend", type=int, help="reward for the friend who entered a code")
        parser.add_argument(
            "--milestone", action="append", metavar="COUNT=AMOUNT", help="repeat; replaces all"
        )
        parser.add_argument("--no-milestones", action="store_true", help="remove all milestones")
        parser.add_argument("--unit", help="points, or a currency code such as RUB")
        parser.add_argument("--hold-days", type=int)
        parser.add_argument("--monthly-cap", type=_cap, default=UNSET, help="grants a month; none")
        parser.add_argument("--total-cap", type=_cap, default=UNSET, help="grants in total; none")
        parser.add_argument(
            "--if-none", action="store_true", help="only when there is no program yet (demo set-up)"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        changes = {
            "referrer_amount": options["referrer"],
            "friend_amount": options["friend"],
            "unit": options["unit"],
            "hold_days": options["hold_days"],
            "monthly_cap": options["monthly_cap"],
            "total_cap": options["total_cap"],
            "milestones": (
                {}
                if options["no_milestones"]
                else dict(_milestone(m) for m in options["milestone"])
                if options["milestone"]
                else None
            ),
        }
        wanted = any(v is not None and v is not UNSET for v in changes.values())
        program = program_active()
        if wanted and not (options["if_none"] and program is not None):
            try:
                program = program_set(**changes)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
        if program is None:
            raise CommandError("No rewards program yet: give --referrer, --friend, ... to set one.")
        shown = {
            "referrer": program.referrer_amount,
            "friend": program.friend_amount,
            "milestones": ",".join(f"{c}={a}" for c, a in program.milestones_sorted()),
            "unit": program.unit,
            "hold_days": program.hold_days,
            "monthly_cap": program.monthly_cap,
            "total_cap": program.total_cap,
        }
        if options["json"]:
            shown["milestones"] = [
                {"referrals": c, "amount": a} for c, a in program.milestones_sorted()
            ]
            self.stdout.write(json.dumps(shown))
            return
        for key, value in shown.items():
            self.stdout.write(f"{key}={'none' if value is None else value}")
