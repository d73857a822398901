from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        from core.metrics import scrape_collector_register
        from events.metrics import queue_collect

        scrape_collector_register(queue_collect)
