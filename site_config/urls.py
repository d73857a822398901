from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from core import health
from core.api import docs, errors

urlpatterns = [
    path("", include("auth_flow.urls")),
    path("", include("profiles.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", docs.redoc, name="api-redoc"),
    path("api/docs/swagger/", docs.swagger, name="api-swagger"),
    path("api/v1/auth/", include("auth_flow.api_urls")),
    path("api/v1/profile/", include("profiles.api_urls")),
    path("api/v1/rewards/", include("rewards.api_urls")),
    path("api/v1/operator/", include("operator_api.urls")),
    re_path(r"^api/", errors.not_found),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("staff/", include("staff_console.urls")),
]

# Pages in the site's layout and language, or the API's JSON shape under /api/.
handler400 = "core.error_pages.bad_request"
handler403 = "core.error_pages.permission_denied"
handler404 = "core.error_pages.page_not_found"
# A database outage answers 503 with Retry-After; any other error stays a 500.
handler500 = "core.outage.server_error"
