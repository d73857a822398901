"""Webhooks from commit to delivery: 1,000 events through 2 queue workers.

    .venv/bin/python -m bench.webhooks [--events 1000] [--workers 2] [--rate 100] [--database NAME]

In a database of its own (`referral_bench_webhooks`, production settings), one
endpoint subscribes to every event and points at a local receiver
(tests/fakes/webhook_receiver.py, 127.0.0.1, answers 200). Two real workers
(`manage.py queue_worker`, the production command) run the queue. This process
publishes the events through the outbox (`events.services.event_publish`, one
transaction each) at `--rate` events a second (0: as fast as it can), noting each
commit's time; the receiver notes each arrival. Latency = first arrival of the
event's `webhook-id` minus its commit. Prints p50/p95/p99/max, lost (never
arrived within 60 s of the last commit) and duplicates.
Target: p95 <= 2 s, none lost.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
from pathlib import Path

from bench.common import ROOT, VENV_BIN, percentile, recreate_database, save_results, server_env
from tests.fakes.webhook_receiver import WebhookReceiver

DATABASE = "referral_bench_webhooks"
TARGET_P95 = 2.0
ENV = {
    "WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver is on 127.0.0.1
    "WEBHOOK_SECRET_KEY": "bench-only-webhook-key-0123456789abcdefghijklmnop",
    "QUEUE_INLINE": "0",
    "DJANGO_SETTINGS_MODULE": "site_config.settings",
}


def _workers_ready(count: int, timeout: float = 120) -> None:
    """Until every worker has registered in the queue's table (and so LISTENs)."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM procrastinate_workers")
            if cursor.fetchone()[0] >= count:
                time.sleep(1)  # their first fetch and LISTEN
                return
        time.sleep(0.2)
    raise SystemExit(f"{count} workers did not start within {timeout} s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc), for CPU per event."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=100.0, help="events/s; 0: unpaced")
    # Several people bench one machine: each their own database (dropped first).
    parser.add_argument("--database", default=DATABASE, help="this run's database")
    args = parser.parse_args()

    url = recreate_database(args.database)
    env = server_env(url, **ENV)
    os.environ.update(env)
    import django

    django.setup()
    from events.services import event_publish
    from webhooks.services import endpoint_create

    receiver = WebhookReceiver().start()
    endpoint_create(url=receiver.url, event_types="*")
    workers = [
        subprocess.Popen(  # noqa: S603 - our own command
            [str(VENV_BIN / "python"), "manage.py", "queue_worker", "--name", f"bench-{i}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for i in range(args.workers)
    ]
    try:
        _workers_ready(args.workers)
        idle_cpu = sum(_cpu_seconds(worker.pid) for worker in workers)  # start-up
        committed: dict[str, float] = {}
        started = time.monotonic()
        for n in range(args.events):
            if args.rate > 0:
                wait = started + n / args.rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            event = event_publish(
                type="member.created",
                data={"member": {"id": n, "phone": f"+7999{n:07d}"}, "n": n},
            )
            committed[str(event.pk)] = time.time()
        publish_wall = time.monotonic() - started
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            arrived = {d.headers.get("webhook-id") for d in list(receiver.received)}
            if set(committed) <= arrived:
                break
            time.sleep(0.1)
        worker_cpu = sum(_cpu_seconds(worker.pid) for worker in workers) - idle_cpu
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        receiver.stop()

    first: dict[str, float] = {}
    for delivery in receiver.received:
        first.setdefault(delivery.headers.get("webhook-id", ""), delivery.at)
    latencies = sorted(first[i] - committed[i] for i in committed if i in first)
    lost = sum(1 for i in committed if i not in first)
    duplicates = len(receiver.received) - len(first)
    results = {
        "events": args.events,
        "workers": args.workers,
        "rate": args.rate,
        "publish_wall": publish_wall,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": latencies[-1] if latencies else float("nan"),
        "lost": lost,
        "duplicates": duplicates,
        "worker_cpu_ms_per_event": worker_cpu * 1000 / args.events,
        "load_average": os.getloadavg()[0],
    }
    save_results("webhooks", results)
    print(
        f"{args.events} events, {args.workers} workers, "
        f"published in {publish_wall:.1f} s ({args.events / publish_wall:.0f}/s)\n"
        f"commit -> delivery: p50 {results['p50']:.3f} s, p95 {results['p95']:.3f} s, "
        f"p99 {results['p99']:.3f} s, max {results['max']:.3f} s\n"
        f"workers' CPU {results['worker_cpu_ms_per_event']:.1f} ms per event "
        f"(start-up not counted), load average {results['load_average']:.1f}\n"
        f"lost {lost}, duplicates {duplicates}; target p95 <= {TARGET_P95} s, none lost: "
        f"{'met' if results['p95'] <= TARGET_P95 and lost == 0 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
