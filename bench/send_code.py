"""300 simultaneous code requests against `make serve`: does the 1–2 s gateway stall the site?

    .venv/bin/python -m bench.send_code [--quick] [--provider smsru] [--baseline PATH]

`--provider smsru` sends through the real SMS.ru backend (requests, time budget,
breaker) to a local fake SMS.ru answering in 1-2 s (tests/fakes/sms_servers.py)
instead of the simulated gateway.

`--baseline PATH` serves another checkout (a worktree of the old commit) beside this
one, with a database of its own, and runs each burst against both in turn, round after
round, alternating which goes first: on a shared machine only ratios within one run
mean anything. `--database NAME` names this run's database (two people benchmarking
on one PostgreSQL must not drop each other's).

Prints wall time, latency p50/p99, errors, peak open database connections and
the p99 of /healthz and of the sign-in page measured during the burst; bursts
of 300 and 1,000 for the threaded workers in rounds (medians of 3 by default);
and the same burst against plain sync workers and uvicorn (ASGI) workers, with
ratios measured in this run. Writes bench/.results/send_code.json for `bench.report`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
    save_results,
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
    page_p99_ms: float = float("nan")
    # What the unanswered got instead: status codes or exception names, with counts.
    failures: dict[str, int] = field(default_factory=dict)

    def row(self, label: str) -> str:
        return (
            f"{label:<10} {self.requests:>6} {self.answered:>8} {self.errors:>6} {self.wall:>7.2f}"
            f" {self.p50:>7.2f} {self.p99:>7.2f} {self.health_p99_ms:>11.1f}"
            f" {self.page_p99_ms:>11.1f} {self.peak_connections:>9}"
        )


HEADER = (
    f"{'model':<10} {'reqs':>6} {'answered':>8} {'errors':>6} {'wall s':>7}"
    f" {'p50 s':>7} {'p99 s':>7} {'healthz p99':>11} {'sign-in p99':>11} {'peak conn':>9}"
)


async def burst(
    base_url: str, *, requests: int, first_phone: int, cap: float = 60.0
) -> tuple[list, dict[str, list[float]], float]:
    """Fire `requests` code requests at once while probing /healthz and the sign-in page."""
    stop_probe = asyncio.Event()
    probes: dict[str, list[float]] = {"/healthz": [], "/": []}

    async def probe(path: str) -> None:
        while not stop_probe.is_set():
            try:
                reply = await http(base_url, "GET", path, timeout=10)
                probes[path].append(reply.seconds if reply.status == 200 else float("inf"))
            except (OSError, TimeoutError):
                probes[path].append(float("inf"))
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

    probers = [asyncio.create_task(probe(path)) for path in probes]
    started = time.perf_counter()
    replies = await asyncio.gather(*(ask(i) for i in range(requests)))
    wall = time.perf_counter() - started
    stop_probe.set()
    await asyncio.gather(*probers)
    return replies, probes, wall


def measure(
    server: Server, database: str, *, requests: int, first_phone: int, cap: float = 60.0
) -> Burst:
    with connection_sampler(database) as samples:
        replies, probes, wall = asyncio.run(
            burst(server.url, requests=requests, first_phone=first_phone, cap=cap)
        )
    ok = [r for r in replies if not isinstance(r, Exception) and r.status == 202]
    failures = Counter(
        type(r).__name__ if isinstance(r, Exception) else str(r.status)
        for r in replies
        if isinstance(r, Exception) or r.status != 202
    )
    latencies = sorted(r.seconds for r in ok)
    return Burst(
        requests=requests,
        answered=len(ok),
        errors=requests - len(ok),
        wall=wall,
        p50=median(latencies),
        p99=percentile(latencies, 99),
        health_p99_ms=percentile(sorted(probes["/healthz"]), 99) * 1000,
        page_p99_ms=percentile(sorted(probes["/"]), 99) * 1000,
        peak_connections=max(samples, default=0),
        failures=dict(failures),
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
    parser.add_argument("--rounds", type=int, default=3, help="rounds to take the median of")
    parser.add_argument(
        "--no-compare", action="store_true", help="skip the uvicorn and sync workers"
    )
    parser.add_argument("--database", default=DATABASE, help="this run's database (dropped first)")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (the old code) to measure in the same run, burst for burst",
    )
    parser.add_argument(
        "--provider",
        choices=["smsru"],
        help="send through this HTTP backend to a local fake provider answering in 1-2 s",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        run(args, stack)


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
    sizes = [20, 50] if args.quick else [300, 1000]
    rounds = 1 if args.quick else args.rounds
    database = args.database
    url = recreate_database(database)
    env = server_env(url)
    gateway = f"simulated gateway {env['OTP_SEND_DELAY']} s"
    if args.provider == "smsru":
        fake_url = stack.enter_context(fake_provider("smsru"))
        env.update(SMS_BACKEND="smsru", SMSRU_API_ID="bench", SMSRU_BASE_URL=fake_url)
        gateway = f"smsru backend -> fake SMS.ru at {fake_url} answering in 1-2 s"
    pool = int(env.get("DB_POOL_MAX_SIZE", "10"))
    load = "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    print(f"send_code: {gateway}, 2 workers, pool max {pool}/worker, {rounds} round(s)")
    print(f"load average before: {load}")
    print(HEADER)
    # label -> (server, database): this checkout, and the baseline's if asked for.
    servers: dict[str, tuple[Server, str]] = {
        "threaded": (stack.enter_context(Server("threaded", free_port(), env)), database)
    }
    if args.baseline:
        base_database = f"{database}_base"
        base_env = {**env, "DATABASE_URL": recreate_database(base_database, root=args.baseline)}
        base_env["CACHE_KEY_PREFIX"] = f"bench-{base_database}"
        base = Server("threaded", free_port(), base_env, root=args.baseline.resolve())
        servers["baseline"] = (stack.enter_context(base), base_database)
    runs: dict[str, dict[int, list[Burst]]] = {label: {s: [] for s in sizes} for label in servers}
    phone = 0
    for server, name in servers.values():
        measure(server, name, requests=10, first_phone=9_000_000)  # warm-up
    labels = list(servers)
    for index in range(rounds):
        for size in sizes:
            # Alternate who goes first: a noisy moment should not always hit the same one.
            for label in labels if index % 2 == 0 else labels[::-1]:
                server, name = servers[label]
                result = measure(server, name, requests=size, first_phone=phone)
                phone += size
                runs[label][size].append(result)
                print(result.row(label), flush=True)
                if result.failures:
                    print(f"  unanswered: {result.failures}", flush=True)
    for label in labels[1:]:
        servers[label][0].stop()  # the comparisons below are this checkout's alone
    medians = {size: _median_burst(results) for size, results in runs["threaded"].items()}
    for size, result in medians.items():
        print(result.row(f"median {size}"))
    baseline: dict[int, Burst] = {}
    if args.baseline:
        baseline = {size: _median_burst(results) for size, results in runs["baseline"].items()}
        for size, result in baseline.items():
            print(result.row(f"base {size}"))
        for size in sizes:
            new, old = medians[size], baseline[size]
            print(
                f"{size}: wall {new.wall:.2f} vs {old.wall:.2f} s ({new.wall / old.wall:.2f}x),"
                f" p99 {new.p99:.2f} vs {old.p99:.2f} s ({new.p99 / old.p99:.2f}x)"
            )
    print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    headline = sizes[0]
    threaded = medians[headline]
    compared: dict[str, Burst] = {}
    # Against a provider the question is the send path's, not the serving model's.
    if not args.no_compare and not args.provider:
        servers["threaded"][0].stop()
        # The other models cannot finish the burst in a bounded run: cap it and compare
        # what each answered in the same time.
        cap = 12.0
        for model in ("uvicorn", "sync"):
            with Server(model, free_port(), env) as server:
                result = measure(server, database, requests=headline, first_phone=phone, cap=cap)
                phone += headline
                print(result.row(model) + f"   (capped at {cap:.0f} s)", flush=True)
                compared[model] = result
        rate_threaded = threaded.answered / threaded.wall
        for model, other in compared.items():
            rate_other = other.answered / other.wall if other.answered else 0.0
            ratio = rate_threaded / rate_other if rate_other else float("inf")
            print(
                f"throughput ratio threaded / {model}: {ratio:.1f}x"
                f" ({rate_threaded:.0f} vs {rate_other:.1f} answered per second)"
            )
    # The provider run is its own figure: the table of targets reads the simulated wait.
    save_results(
        f"send_code_{args.provider}" if args.provider else "send_code",
        {
            "pool_max_total": 2 * pool,
            "rounds": rounds,
            "load_before": load,
            "bursts": {str(size): asdict(result) for size, result in medians.items()},
            "baseline": {str(size): asdict(result) for size, result in baseline.items()},
            "runs": {
                str(size): [asdict(r) for r in results]
                for size, results in runs["threaded"].items()
            },
            "compared": {model: asdict(result) for model, result in compared.items()},
        },
    )


def _median_burst(results: list[Burst]) -> Burst:
    """Each figure's median over the rounds (answered: the worst round)."""
    return Burst(
        requests=results[0].requests,
        answered=min(r.answered for r in results),
        errors=max(r.errors for r in results),
        wall=median([r.wall for r in results]),
        p50=median([r.p50 for r in results]),
        p99=median([r.p99 for r in results]),
        health_p99_ms=median([r.health_p99_ms for r in results]),
        peak_connections=max(r.peak_connections for r in results),
        page_p99_ms=median([r.page_p99_ms for r in results]),
        failures=dict(sum((Counter(r.failures) for r in results), Counter())),
    )


if __name__ == "__main__":
    main()
