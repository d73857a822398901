"""The sign-in API's URLs (included under /api/v1/auth/ by site_config/urls.py)."""

from django.urls import path

from auth_flow.api import CodeRequestApi, LogoutApi, TokenObtainApi, TokenRefreshApi

urlpatterns = [
    path("code/", CodeRequestApi.as_view(), name="api-code-request"),
    path("token/", TokenObtainApi.as_view(), name="api-token"),
    path("token/refresh/", TokenRefreshApi.as_view(), name="api-token-refresh"),
    path("logout/", LogoutApi.as_view(), name="api-logout"),
]
