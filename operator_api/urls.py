from django.urls import path

from operator_api import api

urlpatterns = [
    path("members/", api.MemberView.as_view(), name="operator-member"),
]
