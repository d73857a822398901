"""Webhook endpoints, the messages owed to them, and the log of every attempt.

A message is one event for one endpoint (unique together): it is delivered at
least once, retried on WEBHOOK_RETRY_SCHEDULE, and ends `delivered` or
`failed`. Each try is an attempt row (unique per message and number), written
while the message row is locked, so two workers never send one attempt at once.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

# What an endpoint subscribes to: exact event names, or "*" for every one.
ALL_EVENTS = "*"
RESPONSE_EXCERPT_BYTES = 1024


class Endpoint(models.Model):
    class DisabledReason(models.TextChoices):
        STAFF = "staff", _("disabled by staff")
        FAILING = "failing", _("failing for too long")

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(
        _("disabled because"), max_length=10, choices=DisabledReason, blank=True
    )
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    # The signing secret, encrypted under WEBHOOK_SECRET_KEY (webhooks/crypto.py).
    secret_encrypted = models.TextField(editable=False)
    # After a rotation the old secret still signs (a second signature) for a while,
    # so receivers can switch without dropping messages.
    previous_secret_encrypted = models.TextField(editable=False, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The start of the current run of failures (no 2xx since); None while healthy.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["pk"]
        constraints = [
            # Enabled means no reason to be disabled; disabled says why and when.
            models.CheckConstraint(
                condition=Q(enabled=True, disabled_reason="", disabled_at__isnull=True)
                | (Q(enabled=False, disabled_at__isnull=False) & ~Q(disabled_reason="")),
                name="webhook_endpoint_disabled_consistent",
            ),
            models.CheckConstraint(
                condition=~Q(secret_encrypted=""), name="webhook_endpoint_has_secret"
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return ALL_EVENTS in self.event_types or event_type in self.event_types


class Message(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(
        Endpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="messages"
    )
    # The event's id: the `webhook-id` header, the receiver's idempotency key.
    event_id = models.UUIDField(_("event id"))
    event_type = models.CharField(_("event type"), max_length=64)
    occurred_at = models.DateTimeField(_("occurred at"))
    data = models.JSONField(_("data"), default=dict)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    # Every try ever made (the attempt log's numbering), and the tries of the
    # current run, which walk the retry schedule (a replay starts a new run).
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    run_attempts = models.PositiveIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("last status code"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook message")
        verbose_name_plural = _("webhook messages")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_message_once"),
            # Pending has a next attempt; delivered has a time; failed waits for a replay.
            models.CheckConstraint(
                condition=Q(state="pending", next_attempt_at__isnull=False)
                | Q(state="delivered", delivered_at__isnull=False, next_attempt_at__isnull=True)
                | Q(state="failed", next_attempt_at__isnull=True),
                name="webhook_message_state_consistent",
            ),
            models.CheckConstraint(
                condition=Q(run_attempts__lte=F("attempts")), name="webhook_message_run_in_total"
            ),
        ]
        indexes = [
            # Due messages (the sweeper), and the log of one endpoint newest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="webhook_message_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_message_log"),
            models.Index(fields=["endpoint", "state"], name="webhook_message_state"),
            models.Index(fields=["created_at"], name="webhook_message_age"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"


class Attempt(models.Model):
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField(_("number"))
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency, ms"))
    # The first 1 KB of the answer, as text.
    response_excerpt = models.TextField(_("response"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="webhook_attempt_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="webhook_attempt_number"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error}"
