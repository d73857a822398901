from django.contrib import admin
from django.urls import include, path

from site_config import health

urlpatterns = [
    path("", include("auth_flow.urls")),
    path("", include("profiles.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
