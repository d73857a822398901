"""What planning costs an activation: PostgreSQL's generic plans against a plan every run.

    .venv/bin/python -m bench.plans [--count 300] [--rounds 8] [--database NAME]

One process, one connection, as an app process has; the rewards program on (bench.activations'
program). Each round is `--count` fresh activations with the connection's prepared statements
planned one way: `auto` (PostgreSQL's default, as the app runs: a generic plan after five
runs) or `force_custom_plan` (what the app set before: every run planned for its values,
the queue's and the foreign keys' statements inside PostgreSQL too). The two alternate
round by round, and which goes first alternates; before each round the tables are
ANALYZEd (as autovacuum would after the round's new members) and the connection's
prepared statements dropped, so each round plans from the same start. Prints the median
CPU per activation of this process and of the database backend serving it.
"""

from __future__ import annotations

import argparse
import os
import time

from bench.activations import BENCH_PROGRAM, django_setup, seed
from bench.common import median, recreate_database
from bench.rewards import server_cpu

DATABASE = "referral_bench_plans"
MODES = ("auto", "force_custom_plan")
WARM_UP = 20  # activations per round before the clock starts (prepared, then planned)


def timed_round(mode: str, count: int) -> tuple[float, float]:
    """CPU milliseconds per activation (this process, the database backend) in `mode`."""
    from django.db import connection

    from profiles.models import User
    from profiles.services import invite_activate

    pairs = seed(count + WARM_UP)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE profiles_user")
        cursor.execute("ANALYZE rewards_grant")
        cursor.execute(f"SET plan_cache_mode = {mode}")
    connection.connection._prepared.clear()  # DEALLOCATE ALL with the next statement
    members = User.objects.in_bulk([pk for pk, _ in pairs])
    for pk, code in pairs[:WARM_UP]:
        invite_activate(user=members[pk], code=code, ip="127.0.0.1")
    backend, app = server_cpu(), time.process_time()
    for pk, code in pairs[WARM_UP:]:
        invite_activate(user=members[pk], code=code, ip="127.0.0.1")
    app = time.process_time() - app
    after = server_cpu()
    if backend is None or after is None:
        raise SystemExit("The database backend's CPU is not readable here (/proc): run it locally.")
    return app / count * 1000, (after - backend) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="activations per round")
    parser.add_argument("--rounds", type=int, default=8, help="rounds per mode")
    parser.add_argument("--database", default=DATABASE, help="this run's database (dropped first)")
    args = parser.parse_args()

    # A refresh longer than the run: each round's own reset is the only one.
    os.environ["DB_PLAN_REFRESH_SECONDS"] = "3600"
    django_setup(recreate_database(args.database))
    from rewards.services import program_set

    program_set(**BENCH_PROGRAM)
    print(
        f"{args.count} activations per round, {args.rounds} rounds per mode, one process; "
        "load average {:.1f} {:.1f} {:.1f} before".format(*os.getloadavg())
    )
    figures: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    for index in range(args.rounds):
        for mode in MODES if index % 2 == 0 else MODES[::-1]:
            figures[mode].append(timed_round(mode, args.count))
    print(f"{'plan_cache_mode':>18}  {'CPU app ms':>10}  {'CPU db ms':>9}  db rounds")
    for mode in MODES:
        app, db = zip(*figures[mode], strict=True)
        rounds = " ".join(f"{x:.2f}" for x in db)
        print(f"{mode:>18}  {median(app):>10.2f}  {median(db):>9.2f}  {rounds}")
    print("load average {:.1f} {:.1f} {:.1f} after".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
