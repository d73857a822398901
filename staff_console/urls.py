from django.urls import path

from staff_console import reward_views, views, webhook_views

app_name = "staff_console"

urlpatterns = [
    path("", views.console, name="console"),
    path("flags/", views.flags, name="flags"),
    path("flags/<int:pk>/review/", views.flag_review, name="flag_review"),
    path("members/<int:pk>/suspend/", views.member_suspend, name="member_suspend"),
    path("export.csv", views.export_csv, name="export"),
    path("rewards/", reward_views.rewards, name="rewards"),
    path("rewards/export.csv", reward_views.rewards_export, name="rewards_export"),
    path("rewards/<int:pk>/<str:action>/", reward_views.grant_action, name="grant_action"),
    path("webhooks/", webhook_views.webhooks, name="webhooks"),
    path("webhooks/add/", webhook_views.webhook_add, name="webhook_add"),
    path("webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/edit/", webhook_views.webhook_edit, name="webhook_edit"),
    path("webhooks/<int:pk>/toggle/", webhook_views.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<int:pk>/rotate/", webhook_views.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook_test"),
    path("webhooks/<int:pk>/replay/", webhook_views.webhook_replay, name="webhook_replay"),
    path(
        "webhooks/<int:pk>/messages/<int:message_pk>/",
        webhook_views.webhook_message,
        name="webhook_message",
    ),
    path(
        "webhooks/<int:pk>/messages/<int:message_pk>/replay/",
        webhook_views.webhook_message_replay,
        name="webhook_message_replay",
    ),
]
