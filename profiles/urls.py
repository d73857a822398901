from django.urls import path

from profiles import views

app_name = "profiles"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/invite/", views.invite_submit, name="invite"),
    path("profile/invite/check/", views.invite_check, name="invite_check"),
    path("profile/invite/dismiss/", views.invite_offer_dismiss, name="invite_dismiss"),
    path("profile/referrals/", views.referrals, name="referrals"),
    path("profile/data/", views.member_data, name="data"),
    path("profile/delete/", views.account_delete, name="delete"),
    path("profile/deleted/", views.account_deleted, name="deleted"),
]
