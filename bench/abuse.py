"""An attacker guesses sign-in codes for one phone for a simulated day, through two app processes.

    .venv/bin/python -m bench.abuse

The attacker is a stranger: no device token for the phone, so it can only
answer the codes it asked for itself (each request's `challenge`) and shares
the phone's limits with every other stranger. The clock is simulated: whenever
the service answers 429, the challenges in the database are moved back by the
Retry-After it gave, as if the attacker had waited. Prints codes issued,
guesses the service evaluated, the chance that a day of guessing finds the
code, that guesses without the attacker's own challenge count nothing, and that
the member's device still gets a code while the attacker holds the phone at its
daily limit. Then shows that rotating phones (and forging X-Forwarded-For) from
one IP stops at the per-IP hourly limit.

    .venv/bin/python -m bench.abuse --pump

A pumping run with the default budgets, from thousands of client addresses
(127.x.y.z on loopback): one range, then the whole +7 country code, then mobiles of
twelve other countries, then an attacker with 250 device tokens of its own numbers.
Prints the codes each phase got sent (the bill), checks that strangers stop at
OTP_GLOBAL_HOURLY - OTP_DEVICE_HOURLY and everyone at OTP_GLOBAL_HOURLY, and that
members' devices in the spent country get their codes before the farmed tokens come.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from dataclasses import dataclass

import psycopg

from bench.common import Server, free_port, http, recreate_database, server_env

DATABASE = "referral_bench_abuse"
DAY = 24 * 3600


@dataclass(frozen=True)
class Siege:
    simulated_hours: float
    codes_issued: int
    codes_refused: int
    guesses_sent: int
    guesses_evaluated: int
    hits: int
    # Guesses with no challenge or a made-up one, and how many were refused unevaluated.
    unbound_sent: int
    unbound_refused: int
    # The member's device asking for a code while strangers are held at the daily limit.
    member_status: int | None
    member_attempts_left: list[int]

    @property
    def chance(self) -> float:
        return self.guesses_evaluated / 10_000


def advance_clock(database_url: str, seconds: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute(
            "UPDATE auth_flow_challenge SET created_at = created_at - make_interval(secs => %s),"
            " expires_at = expires_at - make_interval(secs => %s)",
            [seconds, seconds],
        )


def evaluated_guesses(database_url: str, phone: str, max_attempts: int) -> int:
    """What the server actually compared: spent attempts, plus a successful one."""
    with psycopg.connect(database_url) as db:
        row = db.execute(
            "SELECT coalesce(sum(%s - attempts_left), 0)"
            " + count(*) FILTER (WHERE state = 'used') FROM auth_flow_challenge WHERE phone = %s",
            [max_attempts, phone],
        ).fetchone()
    return int(row[0]) if row else 0


def device_attempts_left(database_url: str, phone: str) -> list[int]:
    """Attempts left on the member's device's codes: strangers must not have spent any."""
    with psycopg.connect(database_url) as db:
        rows = db.execute(
            "SELECT attempts_left FROM auth_flow_challenge WHERE phone = %s AND device <> ''",
            [phone],
        ).fetchall()
    return [row[0] for row in rows]


def member_device_token(phone: str, secret_key: str | None = None) -> str:
    """The device token the member got from an earlier sign-in (minted as the server would).

    With the console SMS backend the bench cannot read a code, so it signs the
    token with the server's key instead of signing in.
    """
    from django.conf import settings

    if not settings.configured:
        settings.configure()  # signing needs only the (empty) key fallbacks
    from auth_flow.devices import device_token_issue

    return device_token_issue(phone=phone, key=secret_key)


async def siege(
    urls: list[str], database_url: str, *, phone: str, max_attempts: int, device_token: str
) -> Siege:
    """Ask for a code, guess until refused, wait out every limit; for one simulated day."""
    rng = random.Random(7)  # noqa: S311 - an attacker's guesses, not a secret
    waited = issued = refused = sent = hits = unbound_sent = unbound_refused = 0
    member_status: int | None = None
    turn = 0

    async def post(path: str, body: dict) -> object:
        nonlocal turn
        turn += 1
        return await http(urls[turn % 2], "POST", path, body=body)

    # The member asks for a code from its device, as it would any day.
    first = await post("/api/v1/auth/code/", {"phone": phone, "device_token": device_token})
    if first.status != 202:
        raise RuntimeError(f"the member's code request answered {first.status}")
    started = time.monotonic()
    while (elapsed := waited + time.monotonic() - started) < DAY:
        reply = await post("/api/v1/auth/code/", {"phone": phone})
        if reply.status == 429:
            refused += 1
            if member_status is None and reply.json().get("code") == "phone_daily_limit":
                # Strangers are locked out for hours: the member's device is not.
                member = await post(
                    "/api/v1/auth/code/", {"phone": phone, "device_token": device_token}
                )
                member_status = member.status
            wait = int(reply.headers.get("retry-after", "60"))
            advance_clock(database_url, wait)
            waited += wait
            continue
        if reply.status != 202:
            raise RuntimeError(f"code request answered {reply.status}: {reply.body[:200]!r}")
        issued += 1
        challenge = reply.json()["challenge"]
        # Guessing at the member's code instead: without a challenge, or with a made-up one.
        for other in ("", secrets.token_urlsafe(24)):
            guess = f"{rng.randrange(10_000):04d}"
            answer = await post(
                "/api/v1/auth/token/", {"phone": phone, "code": guess, "challenge": other}
            )
            unbound_sent += 1
            unbound_refused += answer.status == 400
        for _ in range(max_attempts + 1):  # one more than allowed, to prove it is refused
            guess = f"{rng.randrange(10_000):04d}"
            answer = await post(
                "/api/v1/auth/token/", {"phone": phone, "code": guess, "challenge": challenge}
            )
            sent += 1
            if answer.status == 200:
                hits += 1
                break
    return Siege(
        simulated_hours=elapsed / 3600,
        codes_issued=issued,
        codes_refused=refused,
        guesses_sent=sent,
        guesses_evaluated=evaluated_guesses(database_url, phone, max_attempts),
        hits=hits,
        unbound_sent=unbound_sent,
        unbound_refused=unbound_refused,
        member_status=member_status,
        member_attempts_left=device_attempts_left(database_url, phone),
    )


async def rotate_phones(urls: list[str], *, attempts: int) -> tuple[int, int, set[str]]:
    """One IP asks for codes for many phones, forging X-Forwarded-For each time."""
    issued = refused = 0
    reasons: set[str] = set()
    for index in range(attempts):
        reply = await http(
            urls[index % 2],
            "POST",
            "/api/v1/auth/code/",
            body={"phone": f"+7977{index:07d}"},
            headers={"X-Forwarded-For": f"198.51.100.{index % 250}"},
        )
        if reply.status == 202:
            issued += 1
        elif reply.status == 429:
            refused += 1
            reasons.add(reply.json().get("code", "?"))
        else:
            raise RuntimeError(f"answered {reply.status}")
    return issued, refused, reasons


def run(*, ip_hourly: int = 30) -> tuple[Siege, tuple[int, int, set[str]], dict[str, str]]:
    database_url = recreate_database(DATABASE)
    env = server_env(
        database_url,
        SMS_BACKEND="console",
        OTP_SEND_DELAY="0,0",
        OTP_PHONE_HOURLY="5",
        OTP_PHONE_DAILY="10",
        OTP_RESEND_COOLDOWN="60",
        OTP_IP_HOURLY=str(ip_hourly),
    )
    with (
        Server("threaded", free_port(), env, workers=1) as one,
        Server("threaded", free_port(), env, workers=1) as two,
    ):
        urls = [one.url, two.url]
        # The siege uses its own budget of IP requests: a day has 24 hourly IP windows,
        # but the simulated clock moves every challenge back, so the IP limit frees too.
        phone = "+79990000000"
        device_token = member_device_token(phone, env["SECRET_KEY"])
        result = asyncio.run(
            siege(urls, database_url, phone=phone, max_attempts=3, device_token=device_token)
        )
        advance_clock(database_url, 3600)
        rotation = asyncio.run(rotate_phones(urls, attempts=ip_hourly + 10))
    return result, rotation, env


# Countries whose example mobile numbers the pumping run varies (beside +7).
PUMP_REGIONS = ("GB", "DE", "FR", "IT", "ES", "US", "BR", "IN", "TR", "PL", "NL", "ID")


def random_mobiles(rng: random.Random, region: str, count: int) -> list[str]:
    """`count` valid mobile numbers of `region`, varied from its example number."""
    import phonenumbers

    mobile = phonenumbers.PhoneNumberType.MOBILE
    example = phonenumbers.example_number_for_type(region, mobile)
    national = str(example.national_number)
    # Any mobile range of the country (for +7 all but the ranges refused outright).
    keep = 1
    found: set[str] = set()
    while len(found) < count:
        digits = national[:keep] + "".join(str(rng.randrange(10)) for _ in national[keep:])
        number = phonenumbers.parse(f"+{example.country_code}{digits}")
        phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if (
            phonenumbers.is_valid_number(number)
            and phonenumbers.number_type(number)
            in (mobile, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
            and not phone.startswith(("+7940", "+7998"))
        ):
            found.add(phone)
    return sorted(found)


@dataclass(frozen=True)
class Pump:
    # Phase name -> (requests, codes sent): a code sent is a message billed.
    phases: dict[str, tuple[int, int]]
    members: tuple[int, int]  # device holders in the spent country: asked, got 202
    budgets: dict[str, int]  # SendBudget rows of the hour: key -> used
    seconds: float

    @property
    def strangers_sent(self) -> int:
        return sum(sent for name, (_, sent) in self.phases.items() if name != "farmed tokens")

    @property
    def total_sent(self) -> int:
        return sum(sent for _, sent in self.phases.values()) + self.members[1]


async def pump(urls: list[str], database_url: str, secret_key: str) -> Pump:
    rng = random.Random(17)  # noqa: S311 - an attacker's numbers, not a secret
    clients = iter(range(1, 250 * 250))

    async def ask(phones: list[str], tokens: dict[str, str] | None = None) -> int:
        sent = 0
        for start in range(0, len(phones), 100):
            batch = []
            for index, phone in enumerate(phones[start : start + 100]):
                client = next(clients)
                body = {"phone": phone}
                if tokens:
                    body["device_token"] = tokens[phone]
                batch.append(
                    http(
                        urls[index % 2],
                        "POST",
                        "/api/v1/auth/code/",
                        body=body,
                        source=f"127.{client // 250 % 250}.{client % 250}.{rng.randrange(1, 250)}",
                    )
                )
            for reply in await asyncio.gather(*batch):
                if reply.status == 202:
                    sent += 1
                elif reply.json().get("code") != "sms_budget_exhausted":
                    raise RuntimeError(f"answered {reply.status}: {reply.body[:200]!r}")
        return sent

    one_range = [f"+7999550{index:04d}" for index in range(300)]
    country = random_mobiles(rng, "RU", 600)
    world = [phone for region in PUMP_REGIONS for phone in random_mobiles(rng, region, 125)]
    members = [f"+7912{index:07d}" for index in range(20)]
    farmed = [f"+7913{index:07d}" for index in range(250)]
    tokens = {phone: member_device_token(phone, secret_key) for phone in members + farmed}
    started = time.monotonic()
    phases = {}
    for name, phones in (("one range", one_range), ("+7", country), ("12 countries", world)):
        phases[name] = (len(phones), await ask(phones))
    member_sent = await ask(members, tokens)
    phases["farmed tokens"] = (len(farmed), await ask(farmed, tokens))
    seconds = time.monotonic() - started
    with psycopg.connect(database_url) as db:
        rows = db.execute(
            # The shards of `global` (global:0, global:1, ...) added up.
            "SELECT CASE WHEN key LIKE 'global:%' THEN 'global' ELSE key END, sum(used)::int"
            " FROM auth_flow_sendbudget GROUP BY 1"
        ).fetchall()
    return Pump(phases, (len(members), member_sent), dict(rows), seconds)


def run_pump() -> tuple[Pump, dict[str, str]]:
    database_url = recreate_database(DATABASE)
    env = server_env(
        database_url,
        SMS_BACKEND="console",
        OTP_SEND_DELAY="0,0",
        # The defaults (site_config/settings/sign_in.py), written out.
        OTP_GLOBAL_HOURLY="1000",
        OTP_DEVICE_HOURLY="200",
        OTP_REGION_HOURLY="200",
        OTP_PREFIX_HOURLY="20",
        OTP_PREFIX_DIGITS="6",
    )
    with (
        Server("threaded", free_port(), env, workers=1) as one,
        Server("threaded", free_port(), env, workers=1) as two,
    ):
        result = asyncio.run(pump([one.url, two.url], database_url, env["SECRET_KEY"]))
    return result, env


def main_pump() -> None:
    result, env = run_pump()
    cap = int(env["OTP_GLOBAL_HOURLY"])
    strangers_cap = cap - int(env["OTP_DEVICE_HOURLY"])
    print("pumping run: two app processes, default budgets, one clock hour")
    for name, (asked, sent) in result.phases.items():
        print(f"  {name:14} {asked:5} requests, {sent:4} codes sent")
    asked, sent = result.members
    print(f"  members' devices in the spent +7: {sent} of {asked} got their code")
    print(
        f"  strangers sent {result.strangers_sent} (bound {strangers_cap}), everyone"
        f" {result.total_sent} (bound {cap}); budgets {dict(sorted(result.budgets.items())[:4])}"
        f"...; {result.seconds:.1f} s"
    )
    assert result.phases["one range"][1] == int(env["OTP_PREFIX_HOURLY"]), "the range's budget"
    assert result.budgets["cc:7"] == int(env["OTP_REGION_HOURLY"]), "the country's budget"
    assert result.strangers_sent == strangers_cap, "strangers reached the devices' part"
    assert sent == asked, "strangers locked members' devices out"
    assert result.total_sent == cap == result.budgets["global"], "the bill passed the global budget"


def main() -> None:
    import sys

    if "--pump" in sys.argv:
        main_pump()
        return
    result, (issued, refused, reasons), env = run()
    limit = int(env["OTP_PHONE_DAILY"]) * 3
    print("abuse: one phone, two app processes, one simulated day")
    print(f"  simulated time        {result.simulated_hours:.1f} h")
    print(
        f"  codes issued          {result.codes_issued} (refused {result.codes_refused} requests)"
    )
    print(f"  guesses sent          {result.guesses_sent} (one past the limit per code)")
    print(
        f"  without own challenge {result.unbound_sent} sent, {result.unbound_refused} refused unevaluated"
    )
    print(f"  guesses evaluated     {result.guesses_evaluated} (bound: {limit})")
    print(f"  lucky guesses         {result.hits}")
    print(f"  chance of a hit/day   {result.chance:.2%} (bound: {limit / 10_000:.2%})")
    print(
        f"  member's device       code request answered {result.member_status} while strangers"
        f" were at the daily limit; its codes' attempts left {result.member_attempts_left}"
    )
    print(
        f"per-IP limit, rotating phones and forged X-Forwarded-For from one IP ({env['OTP_IP_HOURLY']}/h):"
    )
    print(f"  codes issued {issued}, refused {refused} ({', '.join(sorted(reasons))})")
    assert result.guesses_evaluated <= limit, "more guesses than the daily bound"
    assert result.unbound_refused == result.unbound_sent, "a guess without its challenge counted"
    assert result.member_status == 202, "strangers locked the member's device out"
    assert all(left == 3 for left in result.member_attempts_left), "the member's code was touched"
    assert issued == int(env["OTP_IP_HOURLY"]), "the per-IP limit did not hold"


if __name__ == "__main__":
    main()
