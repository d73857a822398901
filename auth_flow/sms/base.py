"""What every SMS backend shares: the message, the outcome, the three ways a send
does not end as "sent": the provider failed, it refused the number, or nobody knows."""

from dataclasses import dataclass


def mask_phone(phone: str) -> str:
    """`+79991234567` → `+7999***4567`: enough to tell numbers apart in a log."""
    return f"{phone[:-7]}***{phone[-4:]}" if len(phone) > 8 else "***"


@dataclass(frozen=True)
class SentMessage:
    phone: str
    text: str
    code: str


@dataclass(frozen=True)
class SendResult:
    """What a provider said when it took the message."""

    provider: str
    message_id: str = ""
    # The demo backend hands the code back to the caller (page, API); no other does.
    shows_code: bool = False
    # False: the request went out and no answer came in time (OutcomeUnknown).
    outcome_known: bool = True


class SendFailed(Exception):  # noqa: N818 - the two subclasses name the outcomes
    """A send that did not happen. The message never contains the code."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


class ProviderError(SendFailed):
    """The provider could not take the message (down, timed out, auth, balance).

    The next backend of a chain is tried. `transient` failures (a timeout, a 5xx,
    a dropped connection) are worth one retry within the time budget; the others
    (bad credentials, no balance) fail the same way until an operator acts.
    `retry_after` is the provider's own hint, when the circuit is open.
    """

    def __init__(
        self, provider: str, reason: str, *, transient: bool = False, retry_after: int | None = None
    ) -> None:
        super().__init__(provider, reason)
        self.transient = transient
        self.retry_after = retry_after


class NumberRefused(SendFailed):
    """The provider refused this number: no other provider is tried."""


class ChannelRefused(SendFailed):
    """This channel cannot reach the number (not on Telegram): the next one is tried.

    Unlike NumberRefused, another channel (SMS) may well reach it; unlike a
    ProviderError, the provider answered, so its circuit breaker counts a success.
    """


class OutcomeUnknown(SendFailed):
    """The request went out and no answer came before the send's deadline: the
    provider may well have taken the message. The send counts as made (its SMS
    budget is kept, its code works if it arrives), and no other provider is asked:
    that would be a second text, billed twice."""


class BaseBackend:
    """One way to send a text. Subclasses implement `send` or, for a simulated
    gateway, `deliver`.

    `reveals_codes` says what the class can do (the demo backend shows the code to
    whoever asked); whether it does at run time is the instance's `shows_code`.
    """

    name = "base"
    # What the member is told the code came by (the code screen, the API's `channel`).
    channel = "sms"
    reveals_codes = False

    @property
    def shows_code(self) -> bool:
        return False

    @classmethod
    def configuration_errors(cls) -> list[str]:
        """What is missing in the settings for this backend to work (checked at start)."""
        return []

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        raise NotImplementedError
