"""The operator's console at full size: is every page fast enough?

    .venv/bin/python -m bench.console [--members 100000] [--grants 200000] [--requests 30]

Seeds, in a database of its own (`referral_bench_console`), 100,000 members of
whom 100,000 entered a friend's code (plus the 1,000 they started from) and
200,000 code challenges over 90 days, in bulk. Then judges them for fraud flags
once (`manage.py refresh_fraud_flags`, as cron would) and serves the app with
`make serve`. Prints the p95 of each console page (each range, full page and
htmx fragment, the flags list, a leaderboard page) over sequential requests
from a staff session, and the CSV export's time to first byte and in total.
Then 200,000 reward grants (a referrer and a friend grant per activation, in every
state), and the rewards screen's queues (/staff/rewards/) at that size.
Targets: every page ≤ 300 ms at p95; the export's first byte ≤ 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from bench.common import (
    ROOT,
    VENV_BIN,
    Server,
    database_url,
    free_port,
    http,
    percentile,
    recreate_database,
)
from bench.profile import django_setup

DATABASE = "referral_bench_console"
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PAGE_TARGET = 0.300
FIRST_BYTE_TARGET = 1.0


def seed(members: int, challenges: int, roots: int = 1000) -> None:
    """Members, activations and challenges with bulk_create (every model field
    filled as the app would), plus patterns the fraud rules should find."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from auth_flow.models import Challenge
    from profiles.models import User

    first_pk = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    rng = random.Random(first_pk)  # noqa: S311 - test data, new codes for a second seed
    now = timezone.now()
    codes: set[str] = set()
    while len(codes) < members + roots:
        codes.add("".join(rng.choice(ALPHABET) for _ in range(6)))
    code_list = sorted(codes)
    rng.shuffle(code_list)
    total = members + roots
    unusable = make_password(None)  # members sign in by code, never by password
    users = []
    for i in range(total):
        pk = first_pk + i
        joined = now - timedelta(days=120) + timedelta(seconds=i * (118 * 86400 / total))
        user = User(
            pk=pk,
            phone=f"+7900{pk:07d}",
            invite_code=code_list[i],
            date_joined=joined,
            password=unusable,
            signup_ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        )
        if i >= roots:
            # Skewed: a few popular inviters, a long tail; always someone who joined earlier.
            inviter = first_pk + int(i * rng.random() ** 3)
            user.referred_by_id = inviter
            user.activated_at = min(now, joined + timedelta(seconds=rng.randrange(20, 2 * 86400)))
            user.activation_ip = user.signup_ip
        users.append(user)
    # Patterns: bursts and sequential phones into a few inviters, same-IP referrals.
    for block in range(min(50, members // 20)):
        inviter = users[(block * 7) % roots]  # a root: no inviter of its own, so no cycle
        for k in range(6):
            victim = users[roots + members // 2 + block * 6 + k]
            victim.referred_by_id = inviter.pk
            victim.activated_at = now - timedelta(days=block % 30, minutes=k)
            if block % 5 == 0:  # joined from the inviter's address soon after them
                victim.signup_ip = inviter.signup_ip
                victim.date_joined = inviter.date_joined + timedelta(hours=k + 1)
    User.objects.bulk_create(users, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('profiles_user', 'id'), (SELECT max(id) FROM profiles_user))"
        )
    batch = []
    for _ in range(challenges):
        created = now - timedelta(seconds=rng.randrange(90 * 86400))
        used = rng.random() < 0.6
        batch.append(
            Challenge(
                phone=f"+7900{rng.randrange(1, total):07d}",
                ip=f"10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                code_hash="0" * 64,
                state=Challenge.State.USED if used else Challenge.State.REPLACED,
                attempts_left=3,
                created_at=created,
                expires_at=created + timedelta(minutes=5),
                used_at=created + timedelta(seconds=30) if used else None,
                provider=rng.choice(["smsru", "smsru", "twilio", ""]),
                delivery=rng.choice(["delivered", "delivered", "sent", "failed"]),
            )
        )
        if len(batch) == 10000:
            Challenge.objects.bulk_create(batch)
            batch = []
    Challenge.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def seed_grants(grants: int) -> int:
    """A referrer and a friend grant per activation (newest activations first) until
    `grants`, spread over the states as a running program's ledger is."""
    from django.db import connection
    from django.utils import timezone

    from profiles.models import User
    from rewards.models import Grant

    rng = random.Random(grants)  # noqa: S311 - test data
    now = timezone.now()
    batch, made = [], 0
    activated = User.objects.filter(referred_by__isnull=False).values_list(
        "pk", "referred_by_id", "activated_at"
    )
    for pk, inviter, at in activated.iterator(chunk_size=5000):
        for member, kind in ((inviter, "referrer"), (pk, "friend")):
            state = rng.choices(["pending", "approved", "fulfilled", "voided"], [3, 4, 2, 1])[0]
            batch.append(
                Grant(
                    member_id=member,
                    kind=kind,
                    referral_id=pk,
                    referral_key=f"bench{pk}",
                    amount=100 if kind == "referrer" else 50,
                    unit="points",
                    state=state,
                    reason="staff" if state == "voided" else "",
                    activated_at=at,
                    created_at=at,
                    available_at=at + timedelta(days=14),
                    approved_at=at + timedelta(days=14)
                    if state in ("approved", "fulfilled")
                    else None,
                    fulfilled_at=now if state == "fulfilled" else None,
                    voided_at=now if state == "voided" else None,
                )
            )
            made += 1
        if len(batch) >= 10000:
            Grant.objects.bulk_create(batch)
            batch = []
        if made >= grants:
            break
    Grant.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        # As autovacuum leaves a table that is read far more than written: statistics
        # and the visibility map, so the queues' index-only scans need no heap.
        in_test = connection.in_atomic_block  # a test's transaction: VACUUM cannot run there
        cursor.execute("ANALYZE rewards_grant" if in_test else "VACUUM ANALYZE rewards_grant")
    return made


def staff_cookie() -> dict[str, str]:
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    from core.staff import PASSWORD_BACKEND
    from profiles.models import User

    operator = User.objects.filter(phone="+79990000001").first() or User.objects.create_superuser(
        "+79990000001", "bench-operator-password"
    )  # a --reuse run finds the last run's
    session = SessionStore()
    session["_auth_user_id"] = str(operator.pk)
    session["_auth_user_backend"] = PASSWORD_BACKEND
    session["_auth_user_hash"] = operator.get_session_auth_hash()
    session.create()
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}


@dataclass(frozen=True)
class Result:
    name: str
    p50: float
    p95: float
    statuses: set[int]


async def measure_page(
    base: str, name: str, path: str, headers: dict[str, str], requests: int
) -> Result:
    times, statuses = [], set()
    await http(base, "GET", path, headers=headers)  # warm-up
    for _ in range(requests):
        reply = await http(base, "GET", path, headers=headers)
        times.append(reply.seconds)
        statuses.add(reply.status)
    return Result(name, percentile(times, 50), percentile(times, 95), statuses)


async def first_byte(
    base: str, path: str, headers: dict[str, str], row_start: bytes = b"\n'+"
) -> tuple[float, float, int]:
    """Seconds to the first byte of the answer and to its end; the CSV's rows (lines
    starting with `row_start`)."""
    parts = urlsplit(base)
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    first = await reader.read(1)
    ttfb = time.perf_counter() - started
    rest = await reader.read()
    total = time.perf_counter() - started
    writer.close()
    head, _, body = (first + rest).partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    return ttfb, total, body.count(row_start)


def dechunk(body: bytes) -> bytes:
    """The payload of an HTTP/1.1 chunked body."""
    out, at = [], 0
    while True:
        end = body.index(b"\r\n", at)
        size = int(body[at:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(body[end + 2 : end + 2 + size])
        at = end + 2 + size + 2


def seed_all(url: str, members: int, challenges: int, grants: int) -> None:
    from bench.common import server_env

    started = time.perf_counter()
    seed(members, challenges)
    print(
        f"seeded {members + 1000:,} members, {members:,} activations, "
        f"{challenges:,} challenges in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    out = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "refresh_fraud_flags"],
        cwd=ROOT, env=server_env(url), check=True, capture_output=True, text=True,
    )  # fmt: skip
    print(f"refresh_fraud_flags: {out.stdout.strip()} in {time.perf_counter() - started:.1f} s")
    from fraud.models import FraudFlag

    print(f"flags raised: {FraudFlag.objects.count():,}")
    started = time.perf_counter()
    made = seed_grants(grants)
    print(f"seeded {made:,} reward grants in {time.perf_counter() - started:.1f} s")


def rewards_pages(cookie: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """Every variant of /staff/rewards/: each queue as a page and as the htmx tab
    switch, each range of the cost card, later pages (the pager's OFFSET)."""
    tab = {**cookie, "HX-Request": "true", "HX-Target": "grant-list"}
    pages = [("rewards (default)", "/staff/rewards/", cookie)]
    for queue in ("pending", "held", "approved"):
        pages.append((f"rewards ?queue={queue}", f"/staff/rewards/?queue={queue}", cookie))
        pages.append((f"htmx rewards tab {queue}", f"/staff/rewards/?queue={queue}", tab))
    for r in ("today", "7d", "30d", "90d"):
        pages.append((f"rewards ?range={r}", f"/staff/rewards/?queue=pending&range={r}", cookie))
    for page in (2, 40, 1000):
        path = f"/staff/rewards/?queue=approved&page={page}"
        pages.append((f"htmx rewards approved page {page}", path, tab))
    pages.append(("rewards held page 2", "/staff/rewards/?queue=held&page=2", cookie))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--challenges", type=int, default=200_000)
    parser.add_argument("--grants", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database", default=DATABASE, help="dropped and made anew")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database a previous run seeded (migrated to the code's latest)",
    )
    parser.add_argument("--only", choices=["all", "rewards"], default="all")
    args = parser.parse_args()

    from bench.common import server_env

    if args.reuse:
        url = database_url(args.database)
        subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT, env=server_env(url), check=True,
        )  # fmt: skip
        django_setup(url)
    else:
        url = recreate_database(args.database)
        django_setup(url)
        seed_all(url, args.members, args.challenges, args.grants)
    env = server_env(url)
    from rewards.models import Grant

    print(f"reward grants: {Grant.objects.count():,}")
    cookie = staff_cookie()
    htmx = {**cookie, "HX-Request": "true", "HX-Target": "range-section"}
    pages = [
        (f"page ?range={r}", f"/staff/?range={r}", cookie) for r in ("today", "7d", "30d", "90d")
    ]
    pages += [
        (f"htmx switch to {r}", f"/staff/?range={r}", htmx) for r in ("today", "7d", "30d", "90d")
    ]
    pages += [
        ("htmx leaderboard page 3 (90d)", "/staff/?range=90d&page=3", {**cookie, "HX-Request": "true", "HX-Target": "leaderboard"}),
        ("flags", "/staff/flags/", cookie),
        ("flags ?reason=burst", "/staff/flags/?reason=burst", cookie),
        ("htmx flags ?reason=same_ip", "/staff/flags/?reason=same_ip", {**cookie, "HX-Request": "true"}),
    ]  # fmt: skip
    pages += rewards_pages(cookie)
    if args.only == "rewards":
        pages = rewards_pages(cookie)
    with Server("threaded", free_port(), env) as server:
        results = [
            asyncio.run(measure_page(server.url, name, path, headers, args.requests))
            for name, path, headers in pages
        ]
        ttfb, total, lines = asyncio.run(first_byte(server.url, "/staff/export.csv", cookie))
        grants_csv = asyncio.run(first_byte(server.url, "/staff/rewards/export.csv", cookie, b"\n"))
    print(
        f"\n{'page':34} {'p50 ms':>8} {'p95 ms':>8}  status  (target p95 <= {PAGE_TARGET * 1000:.0f} ms)"
    )
    for r in results:
        verdict = "ok" if r.p95 <= PAGE_TARGET and r.statuses == {200} else "MISS"
        print(
            f"{r.name:34} {r.p50 * 1000:8.0f} {r.p95 * 1000:8.0f}  {sorted(r.statuses)}  {verdict}"
        )
    verdict = "ok" if ttfb <= FIRST_BYTE_TARGET else "MISS"
    print(
        f"\nexport.csv: first byte {ttfb * 1000:.0f} ms ({verdict}, target <= {FIRST_BYTE_TARGET * 1000:.0f} ms), "
        f"{lines:,} member rows in {total:.1f} s"
    )
    ttfb, total, lines = grants_csv
    verdict = "ok" if ttfb <= FIRST_BYTE_TARGET else "MISS"
    print(
        f"rewards/export.csv: first byte {ttfb * 1000:.0f} ms ({verdict}, target <= {FIRST_BYTE_TARGET * 1000:.0f} ms), "
        f"{lines - 1:,} grant rows in {total:.1f} s"
    )


if __name__ == "__main__":
    main()
