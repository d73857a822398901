"""Prometheus metrics: the counters the apps import, and /metrics for the scraper.

prometheus-client in its multiprocess mode under gunicorn: each worker writes its
samples to files in PROMETHEUS_MULTIPROC_DIR (site_config/gunicorn.conf.py makes
a fresh one and marks dead workers), and a scrape, answered by any worker, sums
every worker's files. Without that variable (tests, `make run`) the process's own
registry is served.

How an app adds a metric:

- Something that happens (a send, a delivery): a Counter or Histogram here, named
  `referral_<what>_total` / `..._seconds`, with few label values; the app
  calls `.labels(...).inc()` / `.observe()` where the thing happens.
- A state read from the database (budgets, grants by state, queue depth and age):
  a collector registered with `scrape_collector_register(fn)` in the app's
  ready(); `fn()` returns metric families (prometheus_client.core) and runs at
  each scrape, so the figure is the same whichever worker answers.

/metrics is not public: `Authorization: Bearer <METRICS_TOKEN>`, 401 with
`WWW-Authenticate: Bearer` otherwise, 404 while METRICS_TOKEN is unset. Like
/healthz it is answered ahead of host validation and the HTTPS redirect
(scrapers reach each instance by address over plain HTTP).
"""

import functools
import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.errors import DomainError

logger = logging.getLogger(__name__)

# A process started with the variable set before gunicorn made the directory (make
# serve's collectstatic, a management command) must not fail on the first metric.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# The `_created` series (when a counter was made) say nothing to an alert and
# double the output; multiprocess mode does not export them anyway.
disable_created_metrics()

METRICS_PATH = "/metrics"

# Seconds: pages are milliseconds, a code request waits 1-2 s on the gateway.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)

http_requests = Counter(
    "referral_http_requests_total",
    "HTTP requests answered, by route (URL name), method and status.",
    ["route", "method", "status"],
)
http_request_duration = Histogram(
    "referral_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (URL name) and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
code_requests = Counter(
    "referral_code_requests_total",
    "Sign-in code requests by outcome: sent, or the error code of the refusal.",
    ["outcome"],
)
sms_sends = Counter(
    "referral_sms_sends_total",
    "Sends through one provider by outcome: sent, refused_number, refused_channel, "
    "unknown, failed, circuit_open.",
    ["provider", "outcome"],
)
sms_send_duration = Histogram(
    "referral_sms_send_duration_seconds",
    "Time one provider took to answer a send.",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)
# Per worker (each process has its own breaker): the worst of the live workers.
sms_breaker_state = Gauge(
    "referral_sms_breaker_state",
    "Circuit breaker of a provider: 0 closed, 1 half-open, 2 open (the worst live worker).",
    ["provider"],
    multiprocess_mode="livemax",
)
BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}
activations = Counter(
    "referral_activations_total", "Invite codes activated (committed activations)."
)

Function = TypeVar("Function", bound=Callable[..., Any])


def outcomes_counted(counter: Counter, *, success: str) -> Callable[[Function], Function]:
    """Count each call of a service by outcome: `success`, the DomainError's code, or `error`."""

    def decorate(function: Function) -> Function:
        @functools.wraps(function)
        def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                result = function(*args, **kwargs)
            except DomainError as refusal:
                counter.labels(outcome=refusal.code).inc()
                raise
            except Exception:
                counter.labels(outcome="error").inc()
                raise
            counter.labels(outcome=success).inc()
            return result

        return counted  # type: ignore[return-value]

    return decorate


_scrape_collectors: list[Callable[[], Iterable]] = []


def gauge_by_label(
    name: str, documentation: str, label: str, counts: dict[str, float]
) -> GaugeMetricFamily:
    """A scrape-time gauge with one sample per `label` value: `counts` {value: figure}."""
    gauge = GaugeMetricFamily(name, documentation, labels=[label])
    for value, figure in counts.items():
        gauge.add_metric([value], figure)
    return gauge


def scrape_collector_register(collect: Callable[[], Iterable]) -> None:
    """Add figures read at scrape time (from the database): `collect()` yields metric families."""
    if collect not in _scrape_collectors:
        _scrape_collectors.append(collect)


# A scrape-time figure that takes longer is given up (logged), well inside the
# scraper's own timeout (Prometheus: 10 s), so the other figures still arrive.
SCRAPE_STATEMENT_TIMEOUT_MS = 2000


def _collected(collect: Callable[[], Iterable]) -> Iterable:
    if connection.vendor != "postgresql":
        yield from collect()
        return
    # SET LOCAL lasts the transaction only (safe behind PgBouncer). One database
    # process per figure: a parallel plan takes three for bookkeeping, and on a busy
    # server it was slower too (bench/scrape.py).
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute(f"SET LOCAL statement_timeout = {SCRAPE_STATEMENT_TIMEOUT_MS}")
        yield from collect()


class _ScrapeTime(Collector):
    def collect(self) -> Iterable:
        for collect in list(_scrape_collectors):
            try:
                # Whole families, so a collector failing half-way adds nothing.
                families = list(_collected(collect))
            # One broken source (its table missing, the database slow) must not
            # cost the scraper every other figure.
            except Exception:
                logger.exception("metrics collector failed: %s", collect)
                continue
            yield from families


def exposition() -> bytes:
    """Every worker's samples (multiprocess mode) or this process's, then scrape-time figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    scrape = CollectorRegistry()
    scrape.register(_ScrapeTime())
    return text + generate_latest(scrape)


def _authorized(request: HttpRequest) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = settings.METRICS_TOKEN
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode()
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        return HttpResponse(status=404)
    if not _authorized(request):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _route(request: HttpRequest) -> str:
    """The URL's name (few values), never the path: ids and codes would make a series each."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        # Answered by a middleware (/healthz, an unchanged poll from the cache).
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "unmatched"
    return match.view_name or "unnamed"


class MetricsMiddleware:
    """Serves /metrics and counts and times every request. Must come first in MIDDLEWARE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == METRICS_PATH:
            return metrics_view(request)
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        method = request.method if request.method in _METHODS else "other"
        http_request_duration.labels(route, method).observe(time.perf_counter() - started)
        http_requests.labels(route, method, str(response.status_code)).inc()
        return response
