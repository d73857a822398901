from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

# Upper-case letters and digits without the look-alikes 0 O 1 I L.
INVITE_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_CODE_LENGTH = 6


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **fields: object) -> User:
        # Imported here: the services module imports this one.
        from profiles.services import member_insert

        user = self.model(phone=phone, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        return member_insert(user=user)

    def create_superuser(self, phone: str, password: str | None = None, **fields: object) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(phone, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A member, known by their phone number."""

    # Unique through Meta.constraints, not unique=True: on PostgreSQL a unique
    # CharField also gets a second (varchar_pattern_ops) index for LIKE 'x%', which
    # no query here makes, and every activation would write an entry into it.
    phone = PhoneNumberField(_("phone"))
    invite_code = models.CharField(_("invite code"), max_length=INVITE_CODE_LENGTH)
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        # user_referrals_idx (Meta.indexes) leads with this column and serves every
        # lookup by inviter (the lists, departures, the recount, the console).
        db_index=False,
    )
    activated_at = models.DateTimeField(_("invite activated at"), null=True, blank=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    # --- Referral counter (stored state, kept by profiles.services) ---
    # The count of members who entered this member's code, and how many times that
    # list has changed (a referral joined or left): the profile reads both from its
    # own row, and the referrals poll's version is the second. Changed only by SQL
    # increments in the activation and deletion transactions; `manage.py
    # referrals_recount` checks and repairs them.
    referrals_count = models.PositiveIntegerField(_("referrals"), default=0, editable=False)
    referrals_changes = models.PositiveBigIntegerField(default=0, editable=False)

    # Facts for fraud review (staff_console): where a member first signed in and
    # where they entered a friend's code. Nulled after FRAUD_IP_RETENTION_DAYS.
    signup_ip = models.GenericIPAddressField(_("IP at first sign-in"), null=True, blank=True)
    activation_ip = models.GenericIPAddressField(_("IP at activation"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        # profiles_user is also created with fillfactor 90 (migration 0005, PostgreSQL):
        # updates that change no indexed column (a referral count, last_login) then
        # find room on their page and stay HOT, writing no index entry.
        constraints = [
            models.UniqueConstraint(fields=["phone"], name="user_phone_unique"),
            models.UniqueConstraint(fields=["invite_code"], name="user_invite_code_unique"),
            models.CheckConstraint(
                condition=~Q(referred_by=F("pk")), name="user_cannot_invite_self"
            ),
            models.CheckConstraint(
                condition=Q(referred_by__isnull=True) | Q(activated_at__isnull=False),
                name="user_referral_has_activation_time",
            ),
        ]
        indexes = [
            # Serves the referrals list (newest first) and its change check.
            models.Index(fields=["referred_by", "-activated_at"], name="user_referrals_idx"),
            # The operator's console counts members and activations by date range
            # (the chart, the leaderboard); the fraud scan reads activations since its mark.
            models.Index(fields=["date_joined"], name="user_joined_idx"),
            models.Index(fields=["activated_at"], name="user_activated_idx"),
            # The console lists the suspended apart: a handful among many members.
            models.Index(
                fields=["-suspended_at"],
                name="user_suspended_idx",
                condition=Q(suspended_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return str(self.phone)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django ends a session whose stored hash no longer matches this one.
        # Folding in the last suspension's time ends every session opened before
        # it for good: making the member active again does not bring them back,
        # while sessions opened after the reactivation carry the new hash.
        # (Overridden here, not in get_session_auth_hash, so the
        # SECRET_KEY_FALLBACKS hashes follow the same rule.)
        base = super()._get_session_auth_hash(secret=secret)
        if self.suspended_at is None:
            return base
        return salted_hmac(
            "profiles.User.session_auth_hash.suspended",
            f"{base}:{self.suspended_at.isoformat()}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    # The counters are written only by increments in the database; a full save of
    # an instance loaded earlier (the admin's change form, a password change) must
    # not write back the values it happened to read.
    COUNTER_FIELDS = frozenset({"referrals_count", "referrals_changes"})

    def save(self, *args: Any, **kwargs: Any) -> None:
        if (
            not self._state.adding
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.COUNTER_FIELDS
            ]
        super().save(*args, **kwargs)


class MemberDeletion(models.Model):
    """A member deleted their account (or an operator deleted it): counts, never who.

    Kept for the operator's console: how many leave, how many referrals they had,
    whether they had joined through someone. No phone, no id of the member.
    """

    class Via(models.TextChoices):
        WEB = "web", _("profile page")
        API = "api", _("API")
        OTHER = "other", _("admin or script")

    deleted_at = models.DateTimeField(_("deleted at"), default=timezone.now, db_index=True)
    via = models.CharField(_("deleted from"), max_length=5, choices=Via, default=Via.OTHER)
    referrals = models.PositiveIntegerField(_("referrals they had"), default=0)
    had_inviter = models.BooleanField(_("had joined with a code"), default=False)

    class Meta:
        verbose_name = _("account deletion")
        verbose_name_plural = _("account deletions")

    def __str__(self) -> str:
        return f"{self.deleted_at:%Y-%m-%d %H:%M} ({self.via})"


class LookupWindow(models.Model):
    """Invite-code lookups that name the owner, per client address per hour.

    A share link (`/?invite=CODE`) tells a signed-out visitor whose code it is
    (masked), and the profile's check while typing whether a code exists: both
    count here, in the database every process shares, so nobody walks the code
    space to collect members' numbers (profiles.services.invite_lookup_allow).
    """

    bucket = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bucket", "window_start"], name="lookup_window_unique")
        ]
        indexes = [models.Index(fields=["window_start"], name="lookup_window_start_idx")]

    def __str__(self) -> str:
        return f"{self.bucket} {self.window_start:%Y-%m-%d %H:00} {self.count}"
