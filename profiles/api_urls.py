"""The profile API's URLs (included under /api/v1/profile/ by site_config/urls.py)."""

from django.urls import path

from profiles.api import ExportApi, InviteActivateApi, ProfileApi, ReferralsApi

urlpatterns = [
    path("", ProfileApi.as_view(), name="api-profile"),
    path("export/", ExportApi.as_view(), name="api-profile-export"),
    path("invite/", InviteActivateApi.as_view(), name="api-invite"),
    path("referrals/", ReferralsApi.as_view(), name="api-referrals"),
]
