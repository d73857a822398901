from django.urls import path

from staff_console import views

app_name = "staff_console"

urlpatterns = [
    path("", views.console, name="console"),
    path("flags/", views.flags, name="flags"),
    path("flags/<int:pk>/review/", views.flag_review, name="flag_review"),
    path("members/<int:pk>/suspend/", views.member_suspend, name="member_suspend"),
    path("export.csv", views.export_csv, name="export"),
]
