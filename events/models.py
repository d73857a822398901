"""The outbox: every domain event, written in the transaction of the change it reports."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """One thing that happened (`member.created`, `referral.activated`, ...).

    The id is the receivers' idempotency key (a webhook's `webhook-id`); `data`
    carries ids, E.164 phones and ISO-8601 UTC times only (events/payloads.py).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=64)
    data = models.JSONField(_("data"), default=dict)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            # Newest first per type (console, replay), and the retention purge.
            models.Index(fields=["type", "-occurred_at"], name="event_type_time"),
            models.Index(fields=["occurred_at"], name="event_time"),
        ]
        constraints = [models.CheckConstraint(condition=~models.Q(type=""), name="event_type_set")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
