"""Fraud flags raised from recorded facts, their review by staff, and how far the
judging has read the activations (rewards wait for it)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FraudFlag(models.Model):
    """One suspicion about an inviter, with the rows that raised it.

    The subject is the referral a flag is about (`same_ip`, `fast_activation`),
    or empty when it is about the inviter's referrals as a group (`burst`,
    `sequential_phones`): one flag per (reason, inviter, subject), whose
    evidence grows when the rule trips again.
    """

    class Reason(models.TextChoices):
        SAME_IP = "same_ip", _("same IP as the inviter")
        BURST = "burst", _("burst of activations")
        FAST_ACTIVATION = "fast_activation", _("activated right after signing up")
        SEQUENTIAL_PHONES = "sequential_phones", _("sequential phone numbers")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        REVIEWED = "reviewed", _("reviewed, fine")
        FRAUD = "fraud", _("fraud")

    reason = models.CharField(_("reason"), max_length=20, choices=Reason)
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inviter"),
        on_delete=models.CASCADE,
        related_name="fraud_flags",
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("referral"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The subject's id as text, "" for a group flag: NULLs would not collide in
    # the unique constraint on every database.
    subject_key = models.CharField(max_length=20, blank=True, default="", editable=False)
    evidence = models.JSONField(_("evidence"), default=list)
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.OPEN)
    raised_at = models.DateTimeField(_("raised at"))
    updated_at = models.DateTimeField(_("updated at"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fraud flag")
        verbose_name_plural = _("fraud flags")
        constraints = [
            models.UniqueConstraint(
                fields=["reason", "inviter", "subject_key"], name="fraudflag_one_per_subject"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(reviewed_at__isnull=False),
                name="fraudflag_review_has_time",
            ),
        ]
        indexes = [
            # The console's list: open first, newest first, optionally by reason.
            models.Index(fields=["status", "-updated_at"], name="fraudflag_list_idx"),
            models.Index(fields=["reason", "status", "-updated_at"], name="fraudflag_reason_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.inviter_id} {self.status}"


class JudgingMark(models.Model):
    """How far the fraud judging has read activations (one row, `fraud_flags`).

    Each scan reads only activations since its mark, so a console load costs
    the same at 100 members and at 100,000; an activation at or before the mark
    has been judged (rewards are approved only then).

    The console's code counts keep the same kind of mark in staff_console.ScanMark,
    on purpose: fraud sits below the console (and rewards read it), so it cannot use
    the console's model, and the console's code counts are no business of fraud's.
    """

    name = models.CharField(_("scan"), max_length=32, primary_key=True)
    scanned_to = models.DateTimeField(_("scanned up to"))
    # With scanned_to, a keyset cursor: a batch that stopped at a full page goes
    # on after this row, however many rows share its time.
    last_pk = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("judging mark")
        verbose_name_plural = _("judging marks")

    def __str__(self) -> str:
        return f"{self.name} {self.scanned_to:%Y-%m-%d %H:%M:%S}"
