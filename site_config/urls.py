from django.contrib import admin
from django.urls import include, path, re_path

from site_config import api, health

urlpatterns = [
    path("", include("auth_flow.urls")),
    path("", include("profiles.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("site_config.api")),
    path("api/v1/auth/", include("auth_flow.api")),
    path("api/v1/profile/", include("profiles.api")),
    re_path(r"^api/", api.not_found),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("staff/", include("staff_console.urls")),
]

handler400 = "site_config.api.bad_request"
# A database outage answers 503 with Retry-After; any other error stays a 500.
handler500 = "site_config.outage.server_error"
