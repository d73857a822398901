from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConsoleConfig(AppConfig):
    name = "staff_console"
    verbose_name = _("Operator's console")
