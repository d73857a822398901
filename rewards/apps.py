from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Rewards")

    def ready(self) -> None:
        from core.metrics import scrape_collector_register
        from rewards import (
            member_data,
            receivers,  # noqa: F401 - connects to profiles' and fraud's signals
        )
        from rewards.metrics import grants_collect

        scrape_collector_register(grants_collect)
        member_data.connect()  # the member's grants in "Download my data"
