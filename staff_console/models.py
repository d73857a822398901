"""What the console counts beside the members: the daily code counts that outlive
purged challenges, and how far its scans have read."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScanMark(models.Model):
    """How far an incremental scan of the console has read (code counts).

    Each scan reads only rows since its mark, so a console load costs the same
    at 100 members and at 100,000. The fraud judging's mark has the same shape in
    fraud.JudgingMark, on purpose: fraud sits below the console and cannot use this.
    """

    name = models.CharField(_("scan"), max_length=32, primary_key=True)
    scanned_to = models.DateTimeField(_("scanned up to"))
    # With scanned_to, a keyset cursor: a batch that stopped at a full page goes
    # on after this row, however many rows share its time.
    last_pk = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("scan mark")
        verbose_name_plural = _("scan marks")

    def __str__(self) -> str:
        return f"{self.name} {self.scanned_to:%Y-%m-%d %H:%M:%S}"


class DailyCodeStat(models.Model):
    """Codes sent and sign-ins per day and provider, counted from challenges
    before purge_challenges deletes them (it keeps a day)."""

    day = models.DateField(_("day"))
    provider = models.CharField(_("SMS provider"), max_length=32, blank=True, default="")
    codes_sent = models.PositiveIntegerField(_("codes sent"), default=0)
    sign_ins = models.PositiveIntegerField(_("sign-ins"), default=0)
    # Telegram refunds codes it could not deliver in time: sent, but not billed.
    refunded = models.PositiveIntegerField(_("refunded"), default=0)

    class Meta:
        verbose_name = _("daily code count")
        verbose_name_plural = _("daily code counts")
        constraints = [
            models.UniqueConstraint(fields=["day", "provider"], name="dailycodestat_day_provider")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.provider or '-'} {self.codes_sent}"
