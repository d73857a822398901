"""The admin site: staff with a password session only."""

from django.contrib import admin
from django.http import HttpRequest

from core.staff import staff_signed_in


class StaffAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        # A superuser who signed in with the phone code gets the admin's login form.
        return super().has_permission(request) and staff_signed_in(request)
