"""300 simultaneous code requests against `make serve`: does the 1–2 s gateway stall the site?

    .venv/bin/python -m bench.send_code [--quick] [--provider smsru]

`--provider smsru` sends through the real SMS.ru backend (requests, time budget,
breaker) to a local fake SMS.ru answering in 1-2 s (tests/fakes/sms_servers.py)
instead of the simulated gateway.

Prints wall time, latency p50/p99, errors, peak open database connections and
the /healthz p99 measured during the burst; a scaling curve (100, 300, 1,000)
for the threaded workers; and the same burst against plain sync workers and
uvicorn (ASGI) workers, with ratios measured in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

from bench.common import (
    ROOT,
    VENV_BIN,
    Server,
    connection_sampler,
    free_port,
    http,
    median,
    percentile,
    recreate_database,
    server_env,
)

DATABASE = "referral_bench_send"
CODE_PATH = "/api/v1/auth/code/"


@dataclass(frozen=True)
class Burst:
    requests: int
    answered: int
    errors: int
    wall: float
    p50: float
    p99: float
    health_p99_ms: float
    peak_connections: int

    def row(self, label: str) -> str:
        return (
            f"{label:<10} {self.requests:>6} {self.answered:>8} {self.errors:>6} {self.wall:>7.2f}"
            f" {self.p50:>7.2f} {self.p99:>7.2f} {self.health_p99_ms:>11.1f} {self.peak_connections:>9}"
        )


HEADER = (
    f"{'model':<10} {'reqs':>6} {'answered':>8} {'errors':>6} {'wall s':>7}"
    f" {'p50 s':>7} {'p99 s':>7} {'healthz p99':>11} {'peak conn':>9}"
)


async def burst(
    base_url: str, *, requests: int, first_phone: int, cap: float = 60.0
) -> tuple[list, list[float], float]:
    """Fire `requests` code requests at once while probing /healthz every 20 ms."""
    stop_probe = asyncio.Event()
    health: list[float] = []

    async def probe() -> None:
        while not stop_probe.is_set():
            try:
                reply = await http(base_url, "GET", "/healthz", timeout=10)
                health.append(reply.seconds if reply.status == 200 else float("inf"))
            except (OSError, TimeoutError):
                health.append(float("inf"))
            await asyncio.sleep(0.02)

    async def ask(index: int):  # noqa: ANN202
        number = first_phone + index
        phone = f"+7900{number:07d}"
        # Distinct clients, each far below its per-IP limit, as real visitors are.
        client = f"127.{10 + number // 62_500 % 200}.{number // 250 % 250}.{number % 250 + 1}"
        try:
            return await http(
                base_url, "POST", CODE_PATH, body={"phone": phone}, timeout=cap, source=client
            )
        except (OSError, TimeoutError) as error:
            return error

    prober = asyncio.create_task(probe())
    started = time.perf_counter()
    replies = await asyncio.gather(*(ask(i) for i in range(requests)))
    wall = time.perf_counter() - started
    stop_probe.set()
    await prober
    return replies, health, wall


def measure(
    server: Server, database: str, *, requests: int, first_phone: int, cap: float = 60.0
) -> Burst:
    with connection_sampler(database) as samples:
        replies, health, wall = asyncio.run(
            burst(server.url, requests=requests, first_phone=first_phone, cap=cap)
        )
    ok = [r for r in replies if not isinstance(r, Exception) and r.status == 202]
    latencies = sorted(r.seconds for r in ok)
    return Burst(
        requests=requests,
        answered=len(ok),
        errors=requests - len(ok),
        wall=wall,
        p50=median(latencies),
        p99=percentile(latencies, 99),
        health_p99_ms=percentile(sorted(health), 99) * 1000,
        peak_connections=max(samples, default=0),
    )


@contextlib.contextmanager
def fake_provider(kind: str) -> Iterator[str]:
    """A fake provider in its own process (tests/fakes/sms_servers.py); yields its URL."""
    process = subprocess.Popen(
        [str(VENV_BIN / "python"), "-m", "tests.fakes.sms_servers", "--kind", kind],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller bursts (a smoke run)")
    parser.add_argument(
        "--provider",
        choices=["smsru"],
        help="send through this HTTP backend to a local fake provider answering in 1-2 s",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        run(args, stack)


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
    sizes = [20, 50] if args.quick else [100, 300, 1000]
    headline = 50 if args.quick else 300
    url = recreate_database(DATABASE)
    env = server_env(url)
    gateway = f"simulated gateway {env['OTP_SEND_DELAY']} s"
    if args.provider == "smsru":
        fake_url = stack.enter_context(fake_provider("smsru"))
        env.update(SMS_BACKEND="smsru", SMSRU_API_ID="bench", SMSRU_BASE_URL=fake_url)
        gateway = f"smsru backend -> fake SMS.ru at {fake_url} answering in 1-2 s"
    pool = int(env.get("DB_POOL_MAX_SIZE", "10"))
    print(f"send_code: {gateway}, 2 workers, pool max {pool}/worker")
    print(HEADER)
    results: dict[str, Burst] = {}
    phone = 0
    with Server("threaded", free_port(), env) as server:
        measure(server, DATABASE, requests=10, first_phone=9_000_000)  # warm-up
        for size in sizes:
            result = measure(server, DATABASE, requests=size, first_phone=phone)
            phone += size
            print(result.row("threaded"), flush=True)
            if size == headline:
                results["threaded"] = result
    # The other models cannot finish the burst in a bounded run: cap it and compare
    # what each answered in the same time.
    cap = 12.0
    # Against a provider the question is the send path's, not the serving model's.
    others = () if args.provider else ("uvicorn", "sync")
    for model in others:
        with Server(model, free_port(), env) as server:
            result = measure(server, DATABASE, requests=headline, first_phone=phone, cap=cap)
            phone += headline
            print(result.row(model) + f"   (capped at {cap:.0f} s)", flush=True)
            results[model] = result
    threaded = results["threaded"]
    print()
    print(f"targets at {headline}: all answered, wall <= 3 s, p99 <= 2.5 s, healthz p99 <= 100 ms,")
    print(f"         peak connections <= pool ({2 * pool} for 2 workers)")
    print(
        f"threaded: answered {threaded.answered}/{threaded.requests}, wall {threaded.wall:.2f} s,"
        f" p99 {threaded.p99:.2f} s, healthz p99 {threaded.health_p99_ms:.0f} ms,"
        f" peak connections {threaded.peak_connections}"
    )
    for model in others:
        other = results[model]
        rate_threaded = threaded.answered / threaded.wall
        rate_other = other.answered / other.wall if other.answered else 0.0
        ratio = rate_threaded / rate_other if rate_other else float("inf")
        print(
            f"throughput ratio threaded / {model}: {ratio:.1f}x"
            f" ({rate_threaded:.0f} vs {rate_other:.1f} answered per second)"
        )


if __name__ == "__main__":
    main()
