from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FraudConfig(AppConfig):
    name = "fraud"
    verbose_name = _("Fraud flags")

    def ready(self) -> None:
        from events.dispatch import handler_register
        from fraud.tasks import activation_handler

        handler_register(activation_handler)
