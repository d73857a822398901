from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthFlowConfig(AppConfig):
    name = "auth_flow"
    verbose_name = _("Sign-in")

    def ready(self) -> None:
        from auth_flow import checks  # registers the system checks

        checks.sms_configuration_refuse()

        from auth_flow.views import phone_form_unavailable
        from site_config.outage import outage_forms

        outage_forms["/auth/phone/"] = phone_form_unavailable
