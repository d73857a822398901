"""An attacker guesses sign-in codes for one phone for a simulated day, through two app processes.

    .venv/bin/python -m bench.abuse

The clock is simulated: whenever the service answers 429, the challenges in
the database are moved back by the Retry-After it gave, as if the attacker had
waited. Prints codes issued, guesses the service evaluated, and the chance that
a day of guessing finds the code; then shows that rotating phones (and forging
X-Forwarded-For) from one IP stops at the per-IP hourly limit.
"""

from __future__ import annotations

import asyncio
import random
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


async def siege(urls: list[str], database_url: str, *, phone: str, max_attempts: int) -> Siege:
    """Ask for a code, guess until refused, wait out every limit; for one simulated day."""
    rng = random.Random(7)  # noqa: S311 - an attacker's guesses, not a secret
    waited = issued = refused = sent = hits = 0
    turn = 0
    started = time.monotonic()
    while (elapsed := waited + time.monotonic() - started) < DAY:
        reply = await http(urls[turn % 2], "POST", "/api/v1/auth/code/", body={"phone": phone})
        turn += 1
        if reply.status == 429:
            refused += 1
            wait = int(reply.headers.get("retry-after", "60"))
            advance_clock(database_url, wait)
            waited += wait
            continue
        if reply.status != 202:
            raise RuntimeError(f"code request answered {reply.status}: {reply.body[:200]!r}")
        issued += 1
        for _ in range(max_attempts + 1):  # one more than allowed, to prove it is refused
            guess = f"{rng.randrange(10_000):04d}"
            answer = await http(
                urls[turn % 2], "POST", "/api/v1/auth/token/", body={"phone": phone, "code": guess}
            )
            turn += 1
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
        result = asyncio.run(siege(urls, database_url, phone="+79990000000", max_attempts=3))
        advance_clock(database_url, 3600)
        rotation = asyncio.run(rotate_phones(urls, attempts=ip_hourly + 10))
    return result, rotation, env


def main() -> None:
    result, (issued, refused, reasons), env = run()
    limit = int(env["OTP_PHONE_DAILY"]) * 3
    print("abuse: one phone, two app processes, one simulated day")
    print(f"  simulated time        {result.simulated_hours:.1f} h")
    print(
        f"  codes issued          {result.codes_issued} (refused {result.codes_refused} requests)"
    )
    print(f"  guesses sent          {result.guesses_sent} (one past the limit per code)")
    print(f"  guesses evaluated     {result.guesses_evaluated} (bound: {limit})")
    print(f"  lucky guesses         {result.hits}")
    print(f"  chance of a hit/day   {result.chance:.2%} (bound: {limit / 10_000:.2%})")
    print(
        f"per-IP limit, rotating phones and forged X-Forwarded-For from one IP ({env['OTP_IP_HOURLY']}/h):"
    )
    print(f"  codes issued {issued}, refused {refused} ({', '.join(sorted(reasons))})")
    assert result.guesses_evaluated <= limit, "more guesses than the daily bound"
    assert issued == int(env["OTP_IP_HOURLY"]), "the per-IP limit did not hold"


if __name__ == "__main__":
    main()
