"""The health check load balancers and container runtimes probe."""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

HEALTH_PATH = "/healthz"


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers, 503 when it does not (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    # Any failure (refused, pool timeout, auth) means the same to a load balancer.
    except Exception:  # noqa: BLE001
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


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
