from django.urls import path

from profiles import views

app_name = "profiles"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/invite/", views.invite_submit, name="invite"),
    path("profile/invite/check/", views.invite_check, name="invite_check"),
    path("profile/referrals/", views.referrals, name="referrals"),
]
