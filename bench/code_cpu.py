"""CPU per code request: the app's and PostgreSQL's, the WSGI app called in-process.

    .venv/bin/python -m bench.code_cpu --database NAME [--threads 150 --send 0.1,0.3]

A figure that the machine's other load moves far less than a burst's wall time: the
app (production settings, the demo gateway) is called directly, without gunicorn or
a client, and the CPU is counted, not the time (`time.process_time` for this
process, /proc for the database's backends). Alone (`--threads 1`, the default,
no send wait) it is the request's own work; with `--threads 150` and a short send
the requests overlap as in a burst's wave, GIL contention and pool waits included.
Blocks of `--requests` each, `--blocks` of them; prints each block and the median.
Compare two commits by running this in each worktree, alternately.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import PG_ADMIN_URL, recreate_database, server_env

TICKS = os.sysconf("SC_CLK_TCK")


def backends_cpu(name: str) -> float:
    """Seconds of CPU the database's backends for `name` have used (this machine's)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        pids = [
            row[0]
            for row in admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
        ]
    used = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        used += int(fields[11]) + int(fields[12])  # utime, stime
    return used / TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="referral_bench_code_cpu", help="dropped first")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--send", default="0,0", help="OTP_SEND_DELAY, seconds min,max")
    parser.add_argument("--requests", type=int, default=300, help="per block")
    parser.add_argument("--blocks", type=int, default=5)
    args = parser.parse_args()

    url = recreate_database(args.database)
    os.environ.update(server_env(url, OTP_SEND_DELAY=args.send))
    import django

    django.setup()
    import logging

    from django.db import connection

    from site_config.wsgi import application

    logging.disable(logging.CRITICAL)
    counter = iter(range(10**9))

    def request() -> None:
        i = next(counter)
        body = json.dumps({"phone": f"+7900{i:07d}"}).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/auth/code/",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            # A client IP each 250 requests: the IP's hourly limit stays out of the way.
            "REMOTE_ADDR": f"127.{10 + i // 62500 % 200}.{i // 250 % 250}.{i % 250 + 1}",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        status = []
        b"".join(application(environ, lambda s, h, *a: status.append(s)))
        if not status[0].startswith("202"):
            raise SystemExit(f"code request answered {status[0]}")

    def threaded() -> None:
        try:
            request()
        finally:
            connection.close()  # as the end of a request in a server thread

    def block(count: int) -> None:
        if args.threads == 1:
            for _ in range(count):
                request()
            return
        with ThreadPoolExecutor(args.threads) as pool:
            for future in [pool.submit(threaded) for _ in range(count)]:
                future.result()

    block(150)  # warm: imports, the pool, prepared statements
    app, db = [], []
    for _ in range(args.blocks):
        before_db, before = backends_cpu(args.database), time.process_time()
        block(args.requests)
        app.append((time.process_time() - before) / args.requests * 1000)
        db.append((backends_cpu(args.database) - before_db) / args.requests * 1000)
    print(
        f"code_cpu: threads {args.threads}, send {args.send} s, {args.blocks} x "
        f"{args.requests} requests, load {os.getloadavg()[0]:.1f}\n"
        f"  app CPU ms per request: median {statistics.median(app):.2f} "
        f"({' '.join(f'{x:.2f}' for x in app)})\n"
        f"  database CPU ms per request: median {statistics.median(db):.2f} "
        f"({' '.join(f'{x:.2f}' for x in db)})"
    )


if __name__ == "__main__":
    main()
