"""The site's URLs plus the bare view the profile is measured against (bench only)."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from profiles.models import User
from site_config.urls import handler400
from site_config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler400", "urlpatterns"]


def bare(request: HttpRequest) -> JsonResponse:
    """The floor for a Django view here: the full middleware stack, one indexed ORM query."""
    row = User.objects.filter(pk=1).values("id", "invite_code").first()
    return JsonResponse(row or {})


urlpatterns = [path("bench/bare/", bare), *site_urlpatterns]
