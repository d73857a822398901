"""The profile API's URLs (included under /api/v1/profile/ by site_config/urls.py)."""

from django.urls import path

from profiles.api import InviteActivateApi, ProfileApi, ReferralsApi

urlpatterns = [
    path("", ProfileApi.as_view(), name="api-profile"),
    path("invite/", InviteActivateApi.as_view(), name="api-invite"),
    path("referrals/", ReferralsApi.as_view(), name="api-referrals"),
]
