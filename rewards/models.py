"""The rewards program (data staff edit) and the ledger of grants it produced.

Balances are read from the ledger, never kept beside it. The database holds
what it can: one active program, one grant per (member, kind, referral) and per
(member, milestone), one friend grant per phone ever, and states that agree
with their stamps.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def milestones_validate(value: object) -> None:
    """A list of {"referrals": n >= 1, "amount": a >= 0}, each count once."""
    if not isinstance(value, list):
        raise ValidationError(_("Milestones are a list."))
    seen = set()
    for item in value:
        ok = (
            isinstance(item, dict)
            and set(item) == {"referrals", "amount"}
            and all(isinstance(item[k], int) and not isinstance(item[k], bool) for k in item)
            and item["referrals"] >= 1
            and item["amount"] >= 0
        )
        if not ok or item["referrals"] in seen:
            raise ValidationError(
                _("Each milestone is a referral count (1 or more, once) and an amount.")
            )
        seen.add(item["referrals"])


class Program(models.Model):
    """What a referral earns. One row is active; editing it changes only what later
    activations earn (each grant keeps its own amount and unit)."""

    active = models.BooleanField(_("active"), default=True)
    referrer_amount = models.PositiveIntegerField(
        _("reward per referral"), default=0, help_text=_("For the inviter, per activated referral.")
    )
    friend_amount = models.PositiveIntegerField(
        _("reward for the friend"), default=0, help_text=_("For the member who entered a code.")
    )
    milestones = models.JSONField(
        _("milestones"),
        default=list,
        blank=True,
        validators=[milestones_validate],
        help_text=_("Extra rewards at referral counts."),
    )
    unit = models.CharField(
        _("unit"), max_length=16, default="points", help_text=_("points, or a currency code (RUB)")
    )
    hold_days = models.PositiveIntegerField(_("hold in days"), default=14)
    monthly_cap = models.PositiveIntegerField(
        _("grants per member per month"),
        null=True,
        blank=True,
        help_text=_("Grants of every kind per calendar month; empty for no cap."),
    )
    total_cap = models.PositiveIntegerField(
        _("grants per member in total"),
        null=True,
        blank=True,
        help_text=_("Grants of every kind, ever; empty for no cap."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("rewards program")
        verbose_name_plural = _("rewards program")
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="program_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_amount}/{self.friend_amount} {self.unit}"

    def milestone_at(self, count: int) -> int | None:
        """The milestone amount for reaching `count` referrals, if there is one."""
        for item in self.milestones:
            if item["referrals"] == count:
                return item["amount"]
        return None

    def milestones_sorted(self) -> list[tuple[int, int]]:
        return sorted((item["referrals"], item["amount"]) for item in self.milestones)


class Grant(models.Model):
    """One reward: pending (in its hold) -> approved -> fulfilled; voided is final."""

    class Kind(models.TextChoices):
        REFERRER = "referrer", _("for a referral")
        FRIEND = "friend", _("for joining with a code")
        MILESTONE = "milestone", _("milestone")

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("available")
        FULFILLED = "fulfilled", _("received")
        VOIDED = "voided", _("voided")

    class VoidReason(models.TextChoices):
        FRAUD = "fraud", _("fraud")
        SUSPENDED = "suspended", _("account suspended")
        REFERRAL_LEFT = "referral_left", _("the account was deleted")
        STAFF = "staff", _("voided by staff")
        CAP = "cap", _("over the cap")

    UNFULFILLED = (State.PENDING, State.APPROVED)

    # Kept (NULL) when the member deletes their account: what was granted and paid
    # stays in the books.
    # Indexed by grant_member_idx (member, newest first), which serves every lookup
    # by member: an index of its own would cost each new grant one more entry.
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="reward_grants",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    referral = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("referral"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A keyed hash of the referral's phone (rewards.keys.phone_key), kept when the
    # account goes: a phone that left and joined again never earns twice.
    referral_key = models.CharField(
        _("referral's phone key"), max_length=64, blank=True, default="", editable=False
    )
    milestone = models.PositiveIntegerField(_("milestone (referrals)"), null=True, blank=True)
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=16)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    reason = models.CharField(
        _("reason voided"), max_length=16, choices=VoidReason, blank=True, default=""
    )
    # When the activation it is for happened: the fraud judging must have read it.
    activated_at = models.DateTimeField(_("activated at"))
    available_at = models.DateTimeField(_("available from"))
    created_at = models.DateTimeField(_("created at"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # grant_approved_by_idx, which leaves out the grants nobody approved
    )
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("fulfilled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # grant_fulfilled_by_idx, which leaves out the grants nobody fulfilled
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # grant_voided_by_idx, which leaves out the grants nobody voided
    )

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind", "referral_key"],
                condition=Q(kind__in=["referrer", "friend"]),
                name="grant_one_per_referral",
            ),
            models.UniqueConstraint(
                fields=["kind", "referral_key"],
                condition=Q(kind="friend"),
                name="grant_friend_once_per_phone",
            ),
            models.UniqueConstraint(
                fields=["member", "milestone"],
                condition=Q(kind="milestone"),
                name="grant_one_per_milestone",
            ),
            models.CheckConstraint(
                condition=(Q(kind="milestone") & Q(milestone__isnull=False) & Q(referral_key=""))
                | (~Q(kind="milestone") & Q(milestone__isnull=True) & ~Q(referral_key="")),
                name="grant_kind_has_its_key",
            ),
            models.CheckConstraint(
                condition=(Q(state="voided") & ~Q(reason="") & Q(voided_at__isnull=False))
                | (~Q(state="voided") & Q(reason="")),
                name="grant_voided_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(state="approved") | Q(approved_at__isnull=False),
                name="grant_approved_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state="fulfilled") | Q(fulfilled_at__isnull=False),
                name="grant_fulfilled_has_time",
            ),
        ]
        indexes = [
            # A member's ledger, newest first; caps count a member's month.
            models.Index(fields=["member", "-created_at"], name="grant_member_idx"),
            # The approval job: pending grants whose hold ended.
            models.Index(
                fields=["available_at"], condition=Q(state="pending"), name="grant_due_idx"
            ),
            # The operator API's list by state, for the states without a queue index
            # below (pending and approved are listed from those, in the same order):
            # partial, so that a new grant (pending) does not enter it.
            models.Index(
                fields=["state", "-created_at"],
                condition=Q(state__in=["fulfilled", "voided"]),
                name="grant_state_idx",
            ),
            # /metrics' grants by state at each scrape (rewards/metrics.py): an index-only
            # scan of this narrow index counts 200,000 grants in about half the time of
            # the table's scan, which PostgreSQL prefers to the wider index above.
            models.Index(fields=["state"], name="grant_state_count_idx"),
            # The console's queues at 200,000 grants: each counted and paged in its
            # own order (newest first, id to break ties) from its index alone, the
            # fraud filter on the included ids (rewards.selectors.grants_queue).
            models.Index(
                fields=["-created_at", "-id"],
                include=["member", "referral"],
                condition=Q(state="pending"),
                name="grant_queue_pending_idx",
            ),
            models.Index(
                fields=["-created_at", "-id"],
                include=["member", "referral"],
                condition=Q(state="approved"),
                name="grant_queue_approved_idx",
            ),
            # What the program cost in a range: approved and fulfilled amounts per
            # unit, summed from the index alone (rewards.selectors.program_cost).
            models.Index(
                fields=["created_at"],
                include=["unit", "amount"],
                condition=Q(state__in=["approved", "fulfilled"]),
                name="grant_cost_idx",
            ),
            # Who approved, paid or voided: read only when that staff member's account
            # is deleted (SET NULL). Every new grant has none of the three, so these
            # leave out NULL, and a grant enters one only when staff move it.
            *(
                models.Index(
                    fields=[f"{who}_by"],
                    condition=Q(**{f"{who}_by__isnull": False}),
                    name=f"grant_{who}_by_idx",
                )
                for who in ("approved", "fulfilled", "voided")
            ),
        ]

    def __str__(self) -> str:
        # The admin's headings and links: in the staff member's language.
        return f"{self.get_kind_display()} {self.amount} {self.unit} {self.get_state_display()}"
