from django.db import models
from django.utils.translation import gettext_lazy as _


class KeyRequestWindow(models.Model):
    """Requests one operator API key made in one fixed window, across all processes.

    Taken with one upsert per request (operator_api/throttles.py), as the SMS
    budgets are: the row lock makes the count exact under parallel requests.
    """

    key_prefix = models.CharField(_("key prefix"), max_length=8)
    window_start = models.DateTimeField(_("window starting"))
    requests = models.PositiveIntegerField(_("requests"), default=0)

    class Meta:
        verbose_name = _("operator API request window")
        constraints = [
            models.UniqueConstraint(
                fields=["key_prefix", "window_start"], name="keyrequestwindow_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key_prefix} {self.window_start:%Y-%m-%d %H:%M} {self.requests}"
