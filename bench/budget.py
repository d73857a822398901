"""The hourly SMS budget rows: how many takes per second one row allows.

    .venv/bin/python -m bench.budget [--seconds 5] [--threads 1,4,16]

Every code request in the cluster takes one unit from the `global` row of the
hour, one from its country code's and one from its number prefix's (auth_flow/sms/budgets.py, `budget_take`):
an upsert whose row lock is held to the commit. Here `--threads` connections
take from the same rows (global, cc:7 and one prefix) as fast as they can, with limits too high to
refuse, and the figure is takes per second: the ceiling of code requests per
second for the whole cluster, however many machines serve.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from bench.common import recreate_database

DATABASE = "referral_bench_budget"


def django_setup(database_url: str) -> None:
    from bench.activations import django_setup as setup

    os.environ["DB_POOL_MAX_SIZE"] = "40"  # a connection per thread
    setup(database_url)


def takes_per_second(threads: int, seconds: float, *, spread: bool = False) -> float:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from auth_flow.sms.budgets import budget_take

    settings.OTP_GLOBAL_HOURLY = settings.OTP_REGION_HOURLY = settings.OTP_PREFIX_HOURLY = 10**9
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def take(index: int) -> None:
        try:
            connection.ensure_connection()
            start.wait()
            while not stop.is_set():
                # Spread: each connection its own country code and range, so that only
                # the global budget is shared (a burst from many countries).
                budget_take(
                    phone=f"+{index + 10}9990000000" if spread else "+79990000000",
                    country_code=index + 10 if spread else 7,
                    device=False,
                    now=timezone.now(),
                )
                counts[index] += 1
        finally:
            connection.close()

    workers = [threading.Thread(target=take, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", default="1,4,16")
    parser.add_argument("--database", default=DATABASE, help="this run's database (dropped first)")
    args = parser.parse_args()
    django_setup(recreate_database(args.database))
    print(
        "budget takes/s on one hour's rows (global + cc:7); "
        "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    )
    print("connections  one country and range  a country and range each (only global shared)")
    for threads in (int(n) for n in args.threads.split(",")):
        same = takes_per_second(threads, args.seconds)
        spread = takes_per_second(threads, args.seconds, spread=True)
        print(f"{threads:>11} {same:>22.0f} {spread:>45.0f}")


if __name__ == "__main__":
    main()
