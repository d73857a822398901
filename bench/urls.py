"""The site's URLs plus the bare view the profile is measured against (bench only)."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from site_config.urls import handler400
from site_config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler400", "urlpatterns"]


def bare(request: HttpRequest) -> JsonResponse:
    """The floor for a Django view here: the full middleware stack and one indexed query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM profiles_user WHERE id = %s", [1])
        row = cursor.fetchone()
    return JsonResponse({"id": row[0] if row else None})


urlpatterns = [path("bench/bare/", bare), *site_urlpatterns]
