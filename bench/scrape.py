"""What /metrics' scrape-time figures cost: grants by state and the queue's figures.

    .venv/bin/python -m bench.scrape [--grants 200000] [--jobs 0,10000,100000] [--runs 20]

Each scrape reads the ledger once (rewards/metrics.py: one grouped query) and the
queue's table once (events/metrics.py). Here a fresh database gets `--grants`
grants spread over the four states and, in turn, each `--jobs` count of waiting
jobs; the figure is the median time of one read, run as a scrape runs it (no
parallel workers), with the plan PostgreSQL chose, and for the grants the same
count by a scan of the table (what it costs without `grant_state_count_idx`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.common import recreate_database

DATABASE = "referral_bench_scrape"

GRANTS_SQL = """
INSERT INTO rewards_grant (kind, referral_key, amount, unit, state, reason, activated_at,
                           available_at, created_at, approved_at, fulfilled_at, voided_at)
SELECT 'referrer', md5(i::text), 100, 'points', s.state,
       CASE WHEN s.state = 'voided' THEN 'staff' ELSE '' END,
       now(), now(), now() - make_interval(secs => i),
       CASE WHEN s.state = 'approved' THEN now() END,
       CASE WHEN s.state = 'fulfilled' THEN now() END,
       CASE WHEN s.state = 'voided' THEN now() END
FROM generate_series(1, %(count)s) AS i,
     LATERAL (SELECT (ARRAY['pending', 'approved', 'fulfilled', 'fulfilled', 'voided'])
                     [1 + i %% 5] AS state) AS s
"""
JOBS_SQL = """
INSERT INTO procrastinate_jobs (queue_name, task_name, args)
SELECT 'events', 'events.dispatch', jsonb_build_object('event_ids', jsonb_build_array(i::text))
FROM generate_series(1, %(count)s) AS i
"""


def seed_grants(count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(GRANTS_SQL, {"count": count})


def seed_jobs(count: int) -> None:
    """`count` more jobs waiting in the `events` queue (no worker runs here)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(JOBS_SQL, {"count": count})


def timed(function, runs: int, *settings: str) -> float:
    """Median milliseconds of `runs` calls under `settings` (as a scrape runs them: one
    database process), after one call to warm the connection and the cache."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("RESET ALL")
        for setting in ("SET max_parallel_workers_per_gather = 0", *settings):
            cursor.execute(setting)
    function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def plan(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("RESET ALL")
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        root = cursor.fetchone()[0][0]["Plan"]
    nodes = []

    def walk(node: dict) -> None:
        name = node["Node Type"] + (f" on {node['Index Name']}" if "Index Name" in node else "")
        nodes.append(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(root)
    return " > ".join(nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=200_000)
    parser.add_argument("--jobs", default="0,10000,100000")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from bench.activations import django_setup

    django_setup(recreate_database(DATABASE))
    from django.db import connection

    from events.metrics import QUEUE_FIGURES_SQL, queue_collect
    from rewards.selectors import grants_count_by_state

    seed_grants(args.grants)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE rewards_grant")  # as autovacuum leaves a settled table
    grants_sql = "SELECT state, count(*) FROM rewards_grant GROUP BY state"
    table_scan = ("SET enable_indexonlyscan = off", "SET enable_indexscan = off")
    print(f"load average {os.getloadavg()[0]:.2f}")  # noqa: T201
    indexed = timed(grants_count_by_state, args.runs)
    scanned = timed(grants_count_by_state, args.runs, *table_scan)
    print(  # noqa: T201
        f"grants by state, {args.grants:,} grants: {indexed:.1f} ms ({plan(grants_sql)}); "
        f"the table's scan instead: {scanned:.1f} ms (index / scan = {indexed / scanned:.2f})"
    )
    queued = 0
    for jobs in (int(n) for n in args.jobs.split(",")):
        seed_jobs(jobs - queued)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE procrastinate_jobs")
        queued = jobs
        print(  # noqa: T201
            f"queue figures, {jobs:,} jobs waiting: "
            f"{timed(lambda: list(queue_collect()), args.runs):.1f} ms "
            f"({plan(QUEUE_FIGURES_SQL)})"
        )
    print(f"load average {os.getloadavg()[0]:.2f}")  # noqa: T201


if __name__ == "__main__":
    main()
