"""SMS backends, chosen by the SMS_BACKEND setting in the manner of EMAIL_BACKEND."""

import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

BACKENDS = {
    "console": "auth_flow.sms.ConsoleBackend",
    "demo": "auth_flow.sms.DemoBackend",
    "locmem": "auth_flow.sms.LocmemBackend",
}


def mask_phone(phone: str) -> str:
    """`+79991234567` → `+7999***4567`: enough to tell numbers apart in a log."""
    return f"{phone[:-7]}***{phone[-4:]}" if len(phone) > 8 else "***"


@dataclass(frozen=True)
class SentMessage:
    phone: str
    text: str
    code: str


class BaseBackend:
    """Simulates a gateway: the send takes OTP_SEND_DELAY (min, max) seconds."""

    shows_code = False

    def send(self, *, phone: str, text: str, code: str) -> None:
        low, high = (list(settings.OTP_SEND_DELAY) + [0.0, 0.0])[:2]
        delay = random.uniform(low, max(low, high))  # noqa: S311 - a simulated wait, not a secret
        if delay > 0:
            time.sleep(delay)
        self.deliver(SentMessage(phone=phone, text=text, code=code))

    def deliver(self, message: SentMessage) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Writes the message to the log: the one line that shows a whole number."""

    def deliver(self, message: SentMessage) -> None:
        logger.info("sms to=%s text=%r", message.phone, message.text)


class DemoBackend(ConsoleBackend):
    """Also shows the code to the person (page and API): for the hosted demo only."""

    shows_code = True


class LocmemBackend(BaseBackend):
    """Keeps messages in `outbox`, for tests."""

    outbox: list[SentMessage] = []  # shared on purpose, like mail.outbox

    def deliver(self, message: SentMessage) -> None:
        LocmemBackend.outbox.append(message)


def sms_backend_class() -> type[BaseBackend]:
    name = settings.SMS_BACKEND
    return import_string(BACKENDS.get(name, name))


def sms_backend() -> BaseBackend:
    return sms_backend_class()()
