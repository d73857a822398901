from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperatorApiConfig(AppConfig):
    name = "operator_api"
    verbose_name = _("Operator API")
