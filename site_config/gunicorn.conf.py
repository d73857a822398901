"""Gunicorn settings, read from the environment.

`make serve`, the Dockerfile and a PaaS start command all run
`gunicorn --config site_config/gunicorn.conf.py`, so every host serves the same way.
"""

import os
import sys
from pathlib import Path

# Gunicorn reads this file before it puts the project on sys.path; the worker class
# and the admission settings below are the project's own.
if str(Path(__file__).resolve().parent.parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.admission import admission_settings  # noqa: E402

wsgi_app = "site_config.wsgi:application"

bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# Threaded workers: a code request spends 1-2 s waiting on the SMS gateway with
# its database connection back in the pool, so one process holds many of them
# at once. Plain pages run ~5x faster than under uvicorn workers (docs/benchmarks.md).
worker_class = "core.gunicorn_worker.ThreadWorker"  # gunicorn's gthread, with admission
threads = int(os.environ.get("GUNICORN_THREADS", "512"))
# A worker accepts connections while it holds fewer than worker_connections
# (gunicorn's default 1,000) and queues the excess in its own thread pool, where
# the other worker cannot take them: traced, a 1,000-request burst went 729 / 271,
# the busier worker's last requests waiting two gateway waits for a thread (wall
# 7.0 s). Capped a little above its threads (the margin: kept-alive connections), a
# worker leaves the rest in the listen queue for whichever has a thread free, and
# 512 threads each take a 1,000 burst in one wave: 5.6-5.7 s against 6.8-7.1 s for
# 320 threads uncapped, 5.9-6.1 s for 320 capped, 300 unchanged (bench/send_code.py,
# docs/benchmarks.md).
worker_connections = threads + 32

# Admission (core/admission.py): WEB_ADMISSION_SLOTS requests of a worker work at
# once, the rest wait their turn in arrival order (at most WEB_ADMISSION_WAIT; reads
# 0.1 s). Checked here, so a bad value stops the server at start with its name.
admission_slots, admission_wait = admission_settings()

# A request never legitimately takes long: the slowest waits about 2 s on the gateway.
timeout = 30
# Platforms send SIGTERM and kill some seconds later: finish in-flight requests first.
graceful_timeout = 10
accesslog = "-"
errorlog = "-"

# Gunicorn >= 25 opens a control socket in $HOME by default: two servers on one
# host would fight over it, and a container's home may be read-only. Nothing here uses it.
control_socket_disable = True

# Worker heartbeats touch a file; a disk-backed /tmp in a container can stall them
# (gunicorn's docs advise tmpfs). Private per-worker files, not shared temp names.
if os.path.isdir("/dev/shm"):  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# --- What gunicorn decides before the app sees a request ---------------------
# Which peers may tell gunicorn the original scheme (X-Forwarded-Proto and kin),
# from the app's own TRUSTED_PROXY_COUNT: with no proxy in front, nobody, so a
# client reaching gunicorn directly (127.0.0.1 included, gunicorn's default)
# cannot make a plain-HTTP request count as HTTPS. Behind proxies whose addresses
# are unknown (a PaaS router), any peer: only the proxy can reach the app there.
# FORWARDED_ALLOW_IPS narrows it to the proxies' addresses or networks.
_trusted_proxies = int(os.environ.get("TRUSTED_PROXY_COUNT", "0") or "0")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*") if _trusted_proxies > 0 else ""

# Gunicorn refuses malformed requests itself, with its own small HTML page (the
# app never runs, so the API's JSON error shape cannot apply): a request line
# over limit_request_line bytes -> 414, a header over limit_request_field_size
# -> 431, a NUL or other invalid character in a header -> 400. The longest URL
# the app makes (a sign-in link with ?next= and ?invite=) is far below 4094.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# --- The background queue beside the server (QUEUE_WORKER_IN_WEB=1) -----------
# A free PaaS web service has no worker service beside it (render.yaml): with
# QUEUE_WORKER_IN_WEB=1 the gunicorn master also runs one `manage.py queue_worker`
# process, starts another if it exits, and stops it (SIGTERM, then its running
# jobs get graceful_timeout) when the server stops. Production runs workers as a
# service of their own instead (docs/deploy.md).
_queue_worker = {"process": None, "stopping": False}


def when_ready(server):  # noqa: ANN001, ANN201 - gunicorn's hook
    if os.environ.get("QUEUE_WORKER_IN_WEB", "0") != "1":
        return
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent

    def supervise():  # noqa: ANN202
        while not _queue_worker["stopping"]:
            process = subprocess.Popen(  # noqa: S603 - our own command
                [sys.executable, "manage.py", "queue_worker"], cwd=root
            )
            _queue_worker["process"] = process
            server.log.info("queue worker started beside the server (pid %s)", process.pid)
            code = process.wait()
            if _queue_worker["stopping"]:
                return
            server.log.warning("queue worker exited with %s; starting another in 2 s", code)
            time.sleep(2)

    threading.Thread(target=supervise, name="queue-worker", daemon=True).start()


def on_exit(server):  # noqa: ANN001, ANN201 - gunicorn's hook
    _queue_worker["stopping"] = True
    process = _queue_worker["process"]
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=graceful_timeout)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: it had its time
        process.kill()


# --- Metrics: prometheus-client's multiprocess mode (core/metrics.py) ----------
# Every worker writes its samples to files in one directory and a scrape, answered
# by any worker, adds them all up. The directory must be set before a worker
# imports prometheus_client, and emptied when gunicorn starts: files left by an
# earlier run would count again. A dead worker's live gauges are dropped.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or ""
if not _metrics_dir:
    import tempfile

    _metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="referral-metrics-"
    )


def on_starting(server: object) -> None:
    import pathlib

    directory = pathlib.Path(_metrics_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
