from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """The admin, served by a site that requires a password session (core/admin.py)."""

    default_site = "core.admin.StaffAdminSite"
