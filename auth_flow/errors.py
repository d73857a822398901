from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.errors import DomainError


def wait_text(seconds: int) -> str:
    """A human wait: "45 seconds", "3 minutes", "2 hours"."""
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = -(-seconds // 60)
    if minutes < 60:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = -(-seconds // 3600)
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


class ChallengeThrottled(DomainError):
    """Too many codes asked for; `retry_after` says when the next one may be."""

    status = 429
    field = None
    reasons = {
        "resend_cooldown": _("A code was just sent. You can ask for a new one in %(wait)s."),
        "phone_hourly_limit": _("Too many codes for this number this hour. Try again in %(wait)s."),
        "phone_daily_limit": _("Too many codes for this number today. Try again in %(wait)s."),
        "ip_hourly_limit": _("Too many codes requested from your network. Try again in %(wait)s."),
    }

    def __init__(self, reason: str, retry_after: int) -> None:
        self.code = reason
        retry_after = max(1, retry_after)
        super().__init__(
            self.reasons[reason] % {"wait": wait_text(retry_after)}, retry_after=retry_after
        )


class CodeError(DomainError):
    field = "code"


class CodeInvalid(CodeError):
    code = "code_invalid"

    def __init__(self, attempts_left: int) -> None:
        self.attempts_left = attempts_left
        super().__init__(
            ngettext(
                "Wrong code. %(n)d attempt left.", "Wrong code. %(n)d attempts left.", attempts_left
            )
            % {"n": attempts_left}
        )


class CodeAttemptsExhausted(CodeError):
    code = "code_attempts_exhausted"

    def __init__(self) -> None:
        super().__init__(
            _("Too many wrong attempts: this code no longer works. Ask for a new one.")
        )


class CodeExpired(CodeError):
    code = "code_expired"

    def __init__(self) -> None:
        super().__init__(_("This code has expired. Ask for a new one."))


class CodeNotRequested(CodeError):
    code = "code_not_requested"

    def __init__(self) -> None:
        super().__init__(_("There is no active code for this number. Ask for a new one."))


class CodeReplaced(CodeError):
    """An older code of this requester, after a newer one was sent: not a wrong guess,
    so it costs no attempt."""

    code = "code_replaced"

    def __init__(self) -> None:
        super().__init__(
            _(
                "A newer code was sent: this one no longer works. "
                "Enter the code from the latest message."
            )
        )


class CodeUsed(CodeError):
    code = "code_used"

    def __init__(self) -> None:
        super().__init__(_("This code has already been used. Ask for a new one."))


class AccountDisabled(DomainError):
    """The right code, but the member is deactivated or suspended: no session, no tokens."""

    code = "account_disabled"
    status = 403
    field = None

    def __init__(self) -> None:
        super().__init__(
            _("This account is disabled and cannot sign in. Contact support if this is a mistake.")
        )


class PhoneNotAllowed(DomainError):
    """Codes do not go to this number: its type (premium-rate, landline, ...), its
    region, or the provider refused it. Nothing was sent."""

    code = "phone_not_allowed"
    field = "phone"

    def __init__(self) -> None:
        super().__init__(
            _("We cannot send codes to this number. Enter a mobile number, e.g. +7 999 123-45-67.")
        )


class SmsFallbackUnavailable(DomainError):
    """ "Send by SMS instead" asked for a code that did not go by Telegram, is no
    longer pending, or was already sent by SMS once."""

    code = "sms_fallback_unavailable"

    def __init__(self) -> None:
        super().__init__(_("This code cannot be sent by SMS instead: ask for a new code."))


class SmsUnavailable(DomainError):
    """The SMS provider is down or did not answer in time: nothing was sent."""

    code = "sms_unavailable"
    status = 503

    def __init__(self, retry_after: int) -> None:
        retry_after = max(1, retry_after)
        super().__init__(
            _("We could not send the SMS just now. Please try again in %(wait)s.")
            % {"wait": wait_text(retry_after)},
            retry_after=retry_after,
        )


class SmsBudgetExhausted(DomainError):
    """The hour's budget of codes (for everyone, this country code or this range) is spent."""

    code = "sms_budget_exhausted"
    status = 503

    def __init__(
        self, retry_after: int, *, key: str = "", window_start: object = None, limit: int = 0
    ) -> None:
        retry_after = max(1, retry_after)
        self.key = key
        self.limit = limit
        self.window_start = window_start
        super().__init__(
            _("Too many codes are being sent right now. Please try again in %(wait)s.")
            % {"wait": wait_text(retry_after)},
            retry_after=retry_after,
        )
