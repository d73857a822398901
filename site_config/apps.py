from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """The admin, served by a site that requires a password session (site_config/admin.py)."""

    default_site = "site_config.admin.StaffAdminSite"
