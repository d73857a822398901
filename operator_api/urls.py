from django.urls import path

from operator_api import api

urlpatterns = [
    path("members/", api.MemberView.as_view(), name="operator-member"),
    path("rewards/", api.RewardsView.as_view(), name="operator-rewards"),
    path("rewards/<int:pk>/fulfil/", api.RewardFulfilView.as_view(), name="operator-reward-fulfil"),
]
