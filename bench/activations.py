"""Activations per second into disjoint inviters, with 1, 2 and 4 processes.

    .venv/bin/python -m bench.activations [--count 2000] [--rounds 3] [--processes 1,2,4] [--no-program]
        [--database NAME]

Each activation is `profiles.services.invite_activate` as the views call it: a
fresh member enters the code of an inviter nobody else uses (every inviter the
root of a tree of its own), so nothing but a global lock makes them wait for
each other. The same run measures both ways an activation has locked: its own
tree (the member, the root of the inviter's tree, the inviter) and the one
advisory lock every activation took before (`ACTIVATION_GLOBAL_LOCK`, kept for
this comparison). Every activation runs with a rewards program on (its grants
and their events in the activation's transaction; `--no-program` for none), as
production does. Each figure is the median of `--rounds` rounds of `--count`
activations shared among the processes; each process talks to PostgreSQL
through its own connection, as an app process does. Writes
bench/.results/activations.json for `bench.report`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

from bench.common import median, recreate_database, save_results, server_env

DATABASE = "referral_bench_activations"
MODES = ("tree", "global")
# The program every figure is measured with unless --no-program: what an activation
# does with rewards on (`make run`'s demo program, with caps), grants and their events
# in the activation's transaction. Inviters are disjoint, so each activation earns
# the inviter's grant and the friend's, and no milestone.
BENCH_PROGRAM = {
    "referrer_amount": 100,
    "friend_amount": 50,
    "milestones": {3: 500, 10: 2000},
    "unit": "points",
    "hold_days": 0,
    "monthly_cap": 5,
    "total_cap": 20,
}


def django_setup(database_url: str) -> None:
    for key, value in server_env(database_url).items():
        os.environ[key] = value
    # No shared cache: the figure is the database's (with Redis each activation
    # also publishes the inviter's list version, one more round trip).
    os.environ["REDIS_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")
    import django

    django.setup()


def seed(count: int) -> list[tuple[int, str]]:
    """`count` (member id, inviter's code) pairs: fresh members, distinct fresh inviters."""
    from profiles.models import User
    from profiles.services import invite_code_generate

    start = User.objects.count()
    codes: set[str] = set(User.objects.values_list("invite_code", flat=True))
    rows = []
    for index in range(2 * count):
        code = invite_code_generate()
        while code in codes:
            code = invite_code_generate()
        codes.add(code)
        rows.append(User(phone=f"+7998{start + index:07d}", invite_code=code))
    created = User.objects.bulk_create(rows, batch_size=2000)
    members, inviters = created[:count], created[count:]
    return [
        (member.pk, inviter.invite_code) for member, inviter in zip(members, inviters, strict=True)
    ]


def _worker(database_url: str, mode: str, pairs, ready, start, results) -> None:  # noqa: ANN001
    django_setup(database_url)
    from django.db import connection

    from profiles import services
    from profiles.models import User

    services.ACTIVATION_GLOBAL_LOCK = mode == "global"
    members = list(User.objects.filter(pk__in=[pk for pk, _ in pairs]).in_bulk().values())
    by_pk = {member.pk: member for member in members}
    connection.ensure_connection()
    ready.wait()
    start.wait()
    began = time.perf_counter()
    for pk, code in pairs:
        services.invite_activate(user=by_pk[pk], code=code, ip="127.0.0.1")
    results.put(time.perf_counter() - began)
    connection.close()


def run_round(database_url: str, mode: str, processes: int, pairs) -> float:
    """Activations per second of one round: all processes start together."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes + 1)
    start = context.Barrier(processes + 1)
    results = context.Queue()
    shares = [pairs[index::processes] for index in range(processes)]
    workers = [
        context.Process(target=_worker, args=(database_url, mode, share, ready, start, results))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    ready.wait()
    began = time.perf_counter()
    start.wait()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - began
    assert all(worker.exitcode == 0 for worker in workers), [w.exitcode for w in workers]
    assert results.qsize() == processes
    return len(pairs) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="activations per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument(
        "--no-program", action="store_true", help="measure without a rewards program"
    )
    # Several people bench one machine: each their own database, else one run drops
    # another's mid-round.
    parser.add_argument("--database", default=DATABASE, help="this run's database (dropped first)")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]

    database_url = recreate_database(args.database)
    django_setup(database_url)
    from profiles.models import User
    from rewards.models import Grant
    from rewards.services import program_set

    if not args.no_program:
        program_set(**BENCH_PROGRAM)
    print(
        f"{args.count} activations into {args.count} disjoint inviters per round, "
        f"median of {args.rounds} rounds, on {os.cpu_count()} cores, "
        f"rewards program {'off' if args.no_program else 'on'}; "
        "load average {:.1f} {:.1f} {:.1f} before".format(*os.getloadavg())
    )
    print(f"{'processes':>9}  {'own tree /s':>12}  {'global lock /s':>14}  {'ratio':>6}")
    figures: dict[str, dict[str, float]] = {mode: {} for mode in MODES}
    for processes in counts:
        rates: dict[str, list[float]] = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            # Alternate the modes round by round, so that a noisy neighbour hits both.
            for mode in MODES:
                rates[mode].append(run_round(database_url, mode, processes, seed(args.count)))
        for mode in MODES:
            figures[mode][str(processes)] = round(median(rates[mode]), 1)
        tree, whole = figures["tree"][str(processes)], figures["global"][str(processes)]
        print(f"{processes:>9}  {tree:>12.0f}  {whole:>14.0f}  {tree / whole:>5.2f}x")
    print("load average {:.1f} {:.1f} {:.1f} after".format(*os.getloadavg()))
    activated = User.objects.filter(referred_by__isnull=False).count()
    expected = args.count * args.rounds * len(MODES) * len(counts)
    assert activated == expected, (activated, expected)
    # Each activation paid the inviter and the friend (the caps are per member).
    assert Grant.objects.count() == (0 if args.no_program else 2 * expected)
    save_results(
        "activations",
        {
            "count": args.count,
            "rounds": args.rounds,
            "load": os.getloadavg()[1],
            "program": not args.no_program,
            **figures,
        },
    )


if __name__ == "__main__":
    main()
