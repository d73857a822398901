from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


class Challenge(models.Model):
    """One sign-in code sent to a phone. Only a keyed hash of the code is stored."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        USED = "used", _("used")
        REPLACED = "replaced", _("replaced by a newer code")
        LOCKED = "locked", _("locked after wrong attempts")
        # The SMS could not be sent: the code never reached anyone and cannot be used.
        FAILED = "failed", _("not sent")

    phone = PhoneNumberField(_("phone"))
    ip = models.GenericIPAddressField(_("client IP"))
    code_hash = models.CharField(_("code hash"), max_length=64)
    state = models.CharField(_("state"), max_length=8, choices=State, default=State.PENDING)
    attempts_left = models.PositiveSmallIntegerField(_("attempts left"))
    created_at = models.DateTimeField(_("created at"), db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # Who may answer: a keyed hash of the opaque token only the requester holds
    # (blank on rows from before requester binding: nobody can answer those).
    token_hash = models.CharField(_("challenge token hash"), max_length=64, blank=True, default="")
    # The requester's device (a keyed hash of its id; blank for a stranger): a device
    # counts its code requests against its own budget, not the phone's shared one.
    device = models.CharField(_("device"), max_length=64, blank=True, default="")
    # The newer code that replaced this one (state `replaced`): typing this code on
    # the newer one's screen answers code_replaced instead of costing an attempt.
    replaced_by = models.ForeignKey(
        "self",
        verbose_name=_("replaced by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaced",
    )

    # Delivery: which provider took the message, its id there, and what became of it.
    class Delivery(models.TextChoices):
        PENDING = "pending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        DELIVERED = "delivered", _("delivered")
        UNDELIVERED = "undelivered", _("undelivered")
        # Telegram's reports: the member opened it; or the code's lifetime passed first.
        READ = "read", _("read")
        EXPIRED = "expired", _("expired")

    provider = models.CharField(_("SMS provider"), max_length=32, blank=True, default="")
    message_id = models.CharField(_("provider message id"), max_length=64, blank=True, default="")
    delivery = models.CharField(
        _("delivery"), max_length=12, choices=Delivery, default=Delivery.PENDING
    )
    delivery_updated_at = models.DateTimeField(_("delivery updated at"), null=True, blank=True)
    # Telegram refunds a code it could not deliver within its ttl: what it did not bill.
    refunded = models.BooleanField(_("fee refunded"), default=False)
    # When this Telegram code was also asked for by SMS ("Send by SMS instead", once).
    sms_fallback_at = models.DateTimeField(_("sent by SMS instead at"), null=True, blank=True)

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        indexes = [
            models.Index(fields=["phone", "-created_at"], name="challenge_phone_idx"),
            models.Index(fields=["ip", "-created_at"], name="challenge_ip_idx"),
            # A verification finds its challenge by the requester's token.
            models.Index(
                fields=["token_hash"], name="challenge_token_idx", condition=~Q(token_hash="")
            ),
            # Status callbacks find their message by the provider's id.
            models.Index(
                fields=["provider", "message_id"],
                name="challenge_message_idx",
                condition=~Q(message_id=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="challenge_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(state="used", used_at__isnull=False) | ~Q(state="used"),
                name="challenge_used_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.state} {self.created_at:%Y-%m-%d %H:%M:%S}"


class SendBudget(models.Model):
    """Codes sent in one fixed hourly window, for one budget key, across all processes.

    `key` is `global` or `cc:<country calling code>`. A send takes one unit with an
    atomic upsert that only increments below the limit (auth_flow/sms/budgets.py);
    a failed send gives it back. `refused` counts requests turned away, so that the
    first one in a window (and only it) logs an ERROR an alert can fire on.
    """

    key = models.CharField(_("budget"), max_length=16)
    window_start = models.DateTimeField(_("hour starting"))
    used = models.PositiveIntegerField(_("codes sent"), default=0)
    refused = models.PositiveIntegerField(_("requests refused"), default=0)

    class Meta:
        verbose_name = _("SMS budget")
        verbose_name_plural = _("SMS budgets")
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="sendbudget_window_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.window_start:%Y-%m-%d %H:%M} {self.used}"
