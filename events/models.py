"""The outbox: every domain event, written in the transaction of the change it reports."""

import uuid

from django.db import models
from django.db.models.functions import Now
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


class Pending(models.Model):
    """The events of one committed write whose dispatch job the relay has not queued
    yet (events/relay.py): written with the events, in their statement, and deleted
    by the relay in the transaction that queues their job.

    One row per write, not per event: its ids stay together in the order published,
    so the relay never splits a write over two jobs (which two workers could run in
    either order), and an activation's three events cost one small row, no index but
    the key. No foreign key: the events' INSERT would check it and the purge would
    have to wait for the relay; a purged event is skipped by the dispatch anyway.
    """

    id = models.BigAutoField(primary_key=True)  # the order the relay takes writes in
    # The ids as the dispatch job carries them (text, a JSON list).
    event_ids = models.JSONField()
    # The database's clock, when the write's transaction began: the queue's age
    # (events/metrics.py) counts from it, so a stuck relay shows as a late queue.
    at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "events_pending"

    def __str__(self) -> str:
        return f"pending {self.pk}: {len(self.event_ids)} events"
