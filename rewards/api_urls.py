from django.urls import path

from rewards.api import RewardsApi

urlpatterns = [
    path("", RewardsApi.as_view(), name="api-rewards"),
]
