from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from core.metrics import scrape_collector_register
        from events.dispatch import handler_register
        from webhooks import checks  # noqa: F401 - registers the start-up check
        from webhooks.metrics import delivery_collect
        from webhooks.services import event_fan_out

        handler_register(event_fan_out)
        scrape_collector_register(delivery_collect)
