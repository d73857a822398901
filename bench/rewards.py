"""What the rewards program adds to an activation: the same activations with and without it.

    .venv/bin/python -m bench.rewards [--count 500] [--rounds 9] [--database NAME]

One process, one connection to PostgreSQL, as an app process has. Each round is
`--count` activations (`profiles.services.invite_activate`, fresh members into
distinct inviters), timed with the program off and then on (bench.activations'
program: a grant for the inviter and one for the friend, milestones, caps), the
two alternating round by round so that a noisy neighbour hits both, and which of
them goes first alternating too (the tables grow round by round: whichever always
ran second would also always run on the larger tables). Prints the median time per
activation of each, the difference, and the statements each runs.
Writes bench/.results/rewards.json for `bench.report`.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.activations import BENCH_PROGRAM, django_setup, seed
from bench.common import median, recreate_database, save_results

DATABASE = "referral_bench_rewards"


def statements(pairs) -> list[str]:  # noqa: ANN001
    """The SQL of one activation, BEGIN and COMMIT included (as an app process runs it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from profiles.models import User
    from profiles.services import invite_activate

    pk, code = pairs[0]
    member = User.objects.get(pk=pk)
    with CaptureQueriesContext(connection) as queries:
        invite_activate(user=member, code=code, ip="127.0.0.1")
    return [" ".join(q["sql"].split())[:70] for q in queries.captured_queries]


def server_cpu() -> float | None:
    """CPU seconds the PostgreSQL backend serving our connection has used, or None
    when it is not a local process we may read (/proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def timed_round(pairs) -> tuple[float, float, float | None]:  # noqa: ANN001
    """Milliseconds per activation over `pairs`: wall, this process's CPU, the
    database backend's CPU (the members are loaded beforehand)."""
    from profiles.models import User
    from profiles.services import invite_activate

    members = User.objects.in_bulk([pk for pk, _ in pairs])
    server = server_cpu()
    began, cpu = time.perf_counter(), time.process_time()
    for pk, code in pairs:
        invite_activate(user=members[pk], code=code, ip="127.0.0.1")
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    after = server_cpu()
    server = after - server if server is not None and after is not None else None
    n = len(pairs) / 1000
    return wall / n, cpu / n, (server / n if server is not None else None)


def program_switch(*, on: bool) -> None:
    from rewards.models import Program
    from rewards.services import program_set

    if on:
        program_set(**BENCH_PROGRAM)
    else:
        Program.objects.all().delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="activations per round and mode")
    parser.add_argument("--rounds", type=int, default=9)
    # Several people bench one machine: each their own database, else one run drops
    # another's mid-round.
    parser.add_argument("--database", default=DATABASE, help="this run's database (dropped first)")
    args = parser.parse_args()

    database_url = recreate_database(args.database)
    django_setup(database_url)
    from django.db import connection

    from rewards.models import Grant

    print(
        f"{args.count} activations into distinct inviters per round and mode, median of "
        f"{args.rounds} rounds, one process; "
        "load average {:.1f} {:.1f} {:.1f} before".format(*os.getloadavg())
    )
    shown: dict[str, list[str]] = {}
    for mode in ("off", "on"):
        program_switch(on=mode == "on")
        shown[mode] = statements(seed(1))
    ms: dict[str, list[float]] = {"off": [], "on": []}
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    server: dict[str, list[float]] = {"off": [], "on": []}
    for index in range(args.rounds):
        for mode in ("off", "on") if index % 2 == 0 else ("on", "off"):
            program_switch(on=mode == "on")
            wall, client, backend = timed_round(seed(args.count))
            ms[mode].append(wall)
            cpu[mode].append(client)
            if backend is not None:
                server[mode].append(backend)
    off, on = median(ms["off"]), median(ms["on"])
    connection.close()
    for mode in ("off", "on"):
        print(f"program {mode}: {len(shown[mode])} statements")
        for sql in shown[mode]:
            print(f"    {sql}")
    # Wall time is the target's figure; the CPU columns (this process, and the database
    # backend serving it when it runs here) say what it costs on a quiet machine, where
    # the wall time of one process is about their sum.
    print(f"{'program':>8}  {'ms / activation':>15}  {'CPU app':>7}  {'CPU db':>6}  rounds (wall)")
    for mode, figure in (("off", off), ("on", on)):
        db = f"{median(server[mode]):.2f}" if server[mode] else "-"
        print(
            f"{mode:>8}  {figure:>15.2f}  {median(cpu[mode]):>7.2f}  {db:>6}  "
            + " ".join(f"{x:.2f}" for x in ms[mode])
        )
    print(f"difference: {on - off:+.2f} ms per activation (target <= 1 ms)")
    cpu_diff = median(cpu["on"]) - median(cpu["off"])
    db_diff = median(server["on"]) - median(server["off"]) if server["on"] else float("nan")
    print(f"CPU difference: app {cpu_diff:+.2f} ms, database {db_diff:+.2f} ms")
    print("load average {:.1f} {:.1f} {:.1f} after".format(*os.getloadavg()))
    granted = Grant.objects.count()
    assert granted >= 2 * args.count * args.rounds, granted  # the program was on, and paid
    save_results(
        "rewards",
        {
            "count": args.count,
            "rounds": args.rounds,
            "load": os.getloadavg()[1],
            "off_ms": round(off, 3),
            "on_ms": round(on, 3),
            "difference_ms": round(on - off, 3),
            "rounds_ms": {mode: [round(x, 3) for x in values] for mode, values in ms.items()},
            "cpu_app_ms": {mode: round(median(v), 3) for mode, v in cpu.items()},
            "cpu_db_ms": {mode: round(median(v), 3) for mode, v in server.items() if v},
            "statements": {mode: len(sql) for mode, sql in shown.items()},
        },
    )


if __name__ == "__main__":
    main()
