from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthFlowConfig(AppConfig):
    name = "auth_flow"
    verbose_name = _("Sign-in")

    def ready(self) -> None:
        from auth_flow import checks, member_data  # registers the system checks

        member_data.connect()

        checks.sms_configuration_refuse()
        checks.otp_limits_refuse()

        from auth_flow.views import phone_form_unavailable
        from core.outage import RetryField, outage_forms, retry_fields

        outage_forms["/auth/phone/"] = phone_form_unavailable

        from auth_flow.metrics import budgets_collect
        from core.metrics import scrape_collector_register

        scrape_collector_register(budgets_collect)
        retry_fields["/auth/code/"] = RetryField("code", _("Code from the SMS"), own_target=True)
