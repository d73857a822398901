from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Rewards")

    def ready(self) -> None:
        from core.metrics import scrape_collector_register
        from rewards import receivers  # noqa: F401 - connects to profiles' and fraud's signals
        from rewards.metrics import grants_collect

        scrape_collector_register(grants_collect)
