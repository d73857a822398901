"""SMS backends, chosen by the SMS_BACKEND setting in the manner of EMAIL_BACKEND.

`SMS_BACKEND` names one backend or several, comma-separated (a fallback chain):
a short name from BACKENDS or a dotted path to a BaseBackend subclass.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from auth_flow.sms.base import (
    BaseBackend,
    ChannelRefused,
    NumberRefused,
    OutcomeUnknown,
    ProviderError,
    SendFailed,
    SendResult,
    SentMessage,
    mask_phone,
)
from auth_flow.sms.chain import ChainBackend
from auth_flow.sms.simulated import ConsoleBackend, DemoBackend, LocmemBackend, SimulatedBackend

BACKENDS = {
    "console": "auth_flow.sms.simulated.ConsoleBackend",
    "demo": "auth_flow.sms.simulated.DemoBackend",
    "locmem": "auth_flow.sms.simulated.LocmemBackend",
    "smsru": "auth_flow.sms.smsru.SmsRuBackend",
    "twilio": "auth_flow.sms.twilio.TwilioBackend",
    "telegram": "auth_flow.sms.telegram.TelegramBackend",
}

__all__ = [
    "BACKENDS",
    "BaseBackend",
    "ChainBackend",
    "ChannelRefused",
    "ConsoleBackend",
    "DemoBackend",
    "LocmemBackend",
    "NumberRefused",
    "OutcomeUnknown",
    "ProviderError",
    "SendFailed",
    "SendResult",
    "SentMessage",
    "SimulatedBackend",
    "mask_phone",
    "sms_backend",
    "sms_backend_class",
    "sms_backend_classes",
    "sms_send",
    "channel_of",
    "channels_configured",
]


def backend_names(value: str | None = None) -> list[str]:
    names = [name.strip() for name in (value or settings.SMS_BACKEND).split(",")]
    return [name for name in names if name]


def sms_backend_classes() -> list[type[BaseBackend]]:
    """Every backend SMS_BACKEND names, in order."""
    return [import_string(BACKENDS.get(name, name)) for name in backend_names()]


def sms_backend_class() -> type[BaseBackend]:
    """The first (for one backend: the only) backend SMS_BACKEND names."""
    return sms_backend_classes()[0]


def sms_backend() -> BaseBackend:
    """The backend to send through: one, or a chain of several."""
    backends = [backend_class() for backend_class in sms_backend_classes()]
    return backends[0] if len(backends) == 1 else ChainBackend(backends)


def sms_send(
    *, phone: str, text: str, code: str, skip_channels: tuple[str, ...] = ()
) -> SendResult:
    """Send through SMS_BACKEND, always as a chain (of one or more): every outcome
    is judged in one place (chain.py) and the send has one wall deadline. Returns
    what was sent or raises NumberRefused, OutcomeUnknown or ProviderError.
    `skip_channels` leaves out the providers of those channels ("Send by SMS instead")."""
    backends = [
        backend_class()
        for backend_class in sms_backend_classes()
        if backend_class.channel not in skip_channels
    ]
    if not backends:
        raise ProviderError("chain", "no provider of another channel")
    return ChainBackend(backends).send(phone=phone, text=text, code=code)


def channel_of(provider: str) -> str:
    """The channel (`sms`, `telegram`) a provider's name stands for; `sms` if unknown."""
    path = BACKENDS.get(provider)
    if path is None:
        return "sms"
    return getattr(import_string(path), "channel", "sms")


def channels_configured() -> set[str]:
    return {backend_class.channel for backend_class in sms_backend_classes()}
