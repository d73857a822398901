from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthFlowConfig(AppConfig):
    name = "auth_flow"
    verbose_name = _("Sign-in")

    def ready(self) -> None:
        from auth_flow import checks  # noqa: F401 - registers the system checks
