"""A member with 10,000 referrals: how fast are the profile and the referrals poll?

    .venv/bin/python -m bench.profile [--quick]

Seeds the referrals in bulk, then loads four URLs at 32 connections (wrk when
installed, else the asyncio client), in rounds (medians of 3 by default): a bare
one-query Django view (bench/urls.py, never served in production), the API
profile, the web profile, and an unchanged referrals poll (no body). Also prints
the SQL query count of each at 0, 10 and 10,000 referrals, which must be equal.
`--models` compares serving models (threaded, sync-persistent, uvicorn).
Writes bench/.results/profile.json for `bench.report`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

from bench.common import (
    Server,
    free_port,
    http,
    median,
    percentile,
    recreate_database,
    save_results,
    server_env,
)

DATABASE = "referral_bench_profile"


def django_setup(database_url: str) -> None:
    """This process talks to the benchmark database directly (seeding, counting queries)."""
    for key, value in server_env(database_url).items():
        os.environ[key] = value
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    # Pages are rendered here too (query counts): the production static manifest.
    call_command("collectstatic", "--noinput", verbosity=0)


def member_with_referrals(count: int, tag: int):  # noqa: ANN201 - a Django model, imported late
    from datetime import timedelta

    from django.utils import timezone

    from profiles.models import User
    from profiles.services import invite_code_generate, member_get_or_create

    owner, _ = member_get_or_create(phone=f"+7955{tag:07d}")
    start = timezone.now() - timedelta(days=30)
    batch = [
        User(
            phone=f"+7966{tag % 100:02d}{i:05d}",
            invite_code=invite_code_generate(),
            referred_by=owner,
            activated_at=start + timedelta(seconds=i),
        )
        for i in range(count)
    ]
    User.objects.bulk_create(batch, batch_size=2000, ignore_conflicts=True)
    # A bulk insert bypasses the activations that keep the stored count.
    from profiles.services import referrals_recount

    referrals_recount()
    owner.refresh_from_db()
    return owner


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    headers: dict[str, str]
    expect: int


def targets_for(owner) -> list[Target]:  # noqa: ANN001
    from importlib import import_module

    from django.conf import settings
    from rest_framework_simplejwt.tokens import AccessToken

    from core.staff import PHONE_CODE_BACKEND
    from profiles.selectors import referrals_version

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["_auth_user_id"] = str(owner.pk)
    # A member's session, as the phone-code sign-in writes it (the first backend
    # in the list is axes', which signs nobody in).
    session["_auth_user_backend"] = PHONE_CODE_BACKEND
    session["_auth_user_hash"] = owner.get_session_auth_hash()
    session.create()
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}
    version = referrals_version(user=owner)
    return [
        Target("bare view", "/bench/bare/", {}, 200),
        Target(
            "api profile",
            "/api/v1/profile/",
            {"Authorization": f"Bearer {AccessToken.for_user(owner)}"},
            200,
        ),
        Target("web profile", "/profile/", cookie, 200),
        Target(
            "unchanged poll",
            f"/profile/referrals/?v={version}",
            {**cookie, "HX-Request": "true"},
            204,
        ),
    ]


def query_counts(owners: dict[int, object]) -> dict[str, dict[int, int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, dict[int, int]] = {}
    for size, owner in owners.items():
        for target in targets_for(owner)[1:]:  # the bare view is not the site's
            client = Client()
            headers = {k.upper().replace("-", "_"): v for k, v in target.headers.items()}
            meta = {f"HTTP_{k}": v for k, v in headers.items() if k != "COOKIE"}
            if "COOKIE" in headers:
                name, _, value = headers["COOKIE"].partition("=")
                client.cookies[name] = value
            with CaptureQueriesContext(connection) as queries:
                response = client.get(target.path, **meta)
            assert response.status_code == target.expect, (target.name, response.status_code)
            counts.setdefault(target.name, {})[size] = len(queries)
    return counts


def load_wrk(
    base_url: str, target: Target, seconds: int, connections: int
) -> tuple[float, float, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for key, value in target.headers.items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run(
        [*command, base_url + target.path], capture_output=True, text=True, check=True
    ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value if unit == "ms" else value * 1000

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad and target.expect < 300:
        raise RuntimeError(f"{target.name}: {bad.group(1)} non-2xx answers")
    return rate, latency("50"), latency("99")


def load_asyncio(
    base_url: str, target: Target, seconds: int, connections: int
) -> tuple[float, float, float]:
    latencies: list[float] = []

    async def worker(deadline: float) -> None:
        while time.monotonic() < deadline:
            reply = await http(base_url, "GET", target.path, headers=target.headers)
            if reply.status != target.expect:
                raise RuntimeError(f"{target.name}: answered {reply.status}")
            latencies.append(reply.seconds * 1000)

    async def run() -> float:
        started = time.monotonic()
        await asyncio.gather(*(worker(started + seconds) for _ in range(connections)))
        return time.monotonic() - started

    elapsed = asyncio.run(run())
    latencies.sort()
    return len(latencies) / elapsed, median(latencies), percentile(latencies, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 referrals, one 3 s round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds to take the median of")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per URL per round")
    parser.add_argument(
        "--models",
        default="threaded",
        help="serving models, comma-separated (threaded, sync-persistent, uvicorn)",
    )
    args = parser.parse_args()
    referrals = 1_000 if args.quick else 10_000
    seconds = 3 if args.quick else args.seconds
    rounds = 1 if args.quick else args.rounds
    url = recreate_database(DATABASE)
    django_setup(url)
    started = time.perf_counter()
    owners = {0: member_with_referrals(0, 1), 10: member_with_referrals(10, 2)}
    owners[referrals] = member_with_referrals(referrals, 3)
    print(f"profile: seeded {referrals:,} referrals in {time.perf_counter() - started:.1f} s")
    from django.db import connection

    # What autovacuum does soon after a bulk load: statistics and the visibility map.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE profiles_user")

    counts = query_counts(owners)
    print(f"SQL queries per request at {' / '.join(f'{n:,}' for n in owners)} referrals:")
    for name, by_size in counts.items():
        equal = "equal" if len(set(by_size.values())) == 1 else "NOT EQUAL"
        print(f"  {name:<14} {' / '.join(str(by_size[n]) for n in owners)}  ({equal})")

    load = load_wrk if shutil.which("wrk") else load_asyncio
    tool = "wrk -t1 -c32" if load is load_wrk else "asyncio client, 32 connections"
    env = server_env(url, OTP_SEND_DELAY="0,0")
    targets = targets_for(owners[referrals])
    results: dict = {
        "referrals": referrals,
        "tool": tool,
        "rounds": rounds,
        "seconds": seconds,
        "query_counts": {k: list(v.values()) for k, v in counts.items()},
        "models": {},
    }
    for model in args.models.split(","):
        print(
            f"load: {tool}, {seconds} s per URL x {rounds} rounds, 2 {model} workers,"
            f" member with {referrals:,} referrals"
        )
        print(f"  {'round':<6} {'url':<14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        runs: dict[str, list[tuple[float, float, float]]] = {t.name: [] for t in targets}
        with Server(model, free_port(), env) as server:
            for target in targets:
                load(server.url, target, 2, 8)  # warm-up
            # Rounds interleave the URLs, so a noisy moment hits them all alike.
            for number in range(1, rounds + 1):
                for target in targets:
                    rate, p50, p99 = load(server.url, target, seconds, 32)
                    runs[target.name].append((rate, p50, p99))
                    print(
                        f"  {number:<6} {target.name:<14} {rate:>8.0f} {p50:>8.1f} {p99:>8.1f}",
                        flush=True,
                    )
        summary = {
            name: {
                "rate": median([r[0] for r in values]),
                "p50_ms": median([r[1] for r in values]),
                "p99_ms": median([r[2] for r in values]),
                "rates": [r[0] for r in values],
            }
            for name, values in runs.items()
        }
        bare = summary["bare view"]["rate"]
        print(f"  median of {rounds}:")
        for name, figures in summary.items():
            print(
                f"  {'':<6} {name:<14} {figures['rate']:>8.0f} {figures['p50_ms']:>8.1f}"
                f" {figures['p99_ms']:>8.1f}   {figures['rate'] / bare:.2f}x bare"
            )
        results["models"][model] = summary
    save_results("profile", results)


if __name__ == "__main__":
    main()
