"""The health check load balancers and container runtimes probe."""

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from psycopg_pool import PoolTimeout

from core.db_engine.base import database_answers

HEALTH_PATH = "/healthz"


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers, 503 within a second when it does not."""
    try:
        _database_answers()
    # Any failure (refused, pool timeout, auth) means the same to a load balancer.
    except Exception:  # noqa: BLE001
        response = JsonResponse({"status": "error", "database": "unreachable"}, status=503)
        response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER)
        return response
    return JsonResponse({"status": "ok", "database": "ok"})


def _database_answers() -> None:
    pool = getattr(connection, "pool", None)
    if pool is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return
    # Straight from the pool with a deadline of its own: a request's wait
    # (DB_POOL_TIMEOUT) is longer than a probe may take. A dead pooled connection
    # fails at once, and the pool discards it when it comes back.
    pool.open()
    try:
        with pool.connection(timeout=settings.HEALTH_DB_TIMEOUT) as conn:
            conn.execute("SELECT 1")
    except PoolTimeout:
        # Every pooled connection busy (a burst: the database is fine and the
        # instance must stay in rotation) or none can be made (an outage).
        if not database_answers(pool):
            raise


class HealthCheckMiddleware:
    """Answers the health check ahead of host validation and the HTTPS redirect.

    Probes reach each instance directly, over plain HTTP and often with the
    instance's IP as Host (Kubernetes, AWS target groups, Docker HEALTHCHECK):
    ALLOWED_HOSTS would turn them into 400s and SECURE_SSL_REDIRECT into 301s.
    Must come first in MIDDLEWARE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH:
            return healthz(request)
        return self.get_response(request)
