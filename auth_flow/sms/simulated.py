"""Backends that send nothing: console (development), demo (hosted demo), locmem (tests).

They simulate a gateway's wait (OTP_SEND_DELAY, min and max seconds) so that the
site is measured as it will behave with a real one.
"""

import logging
import random
import time

from django.conf import settings

from auth_flow.sms.base import BaseBackend, SendResult, SentMessage

# The console line is the one log line that shows a whole number (and the text): that
# is its job in development. Its logger name is the package's, as before the split.
logger = logging.getLogger("auth_flow.sms")


class SimulatedBackend(BaseBackend):
    """Simulates a gateway: the send takes OTP_SEND_DELAY (min, max) seconds."""

    name = "simulated"

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        low, high = (list(settings.OTP_SEND_DELAY) + [0.0, 0.0])[:2]
        delay = random.uniform(low, max(low, high))  # noqa: S311 - a simulated wait, not a secret
        if delay > 0:
            time.sleep(delay)
        self.deliver(SentMessage(phone=phone, text=text, code=code))
        return SendResult(provider=self.name, shows_code=self.shows_code)

    def deliver(self, message: SentMessage) -> None:
        raise NotImplementedError


class ConsoleBackend(SimulatedBackend):
    """Writes the message to the log: the one line that shows a whole number."""

    name = "console"

    def deliver(self, message: SentMessage) -> None:
        logger.info("sms to=%s text=%r", message.phone, message.text)


class DemoBackend(ConsoleBackend):
    """Also shows the code to the person (page and API): for the hosted demo only.

    Even if a production process were started with it by mistake (settings forbid
    that at start-up), it shows nothing unless DEBUG or DEMO_MODE is on.
    """

    name = "demo"
    reveals_codes = True

    @property
    def shows_code(self) -> bool:
        return bool(settings.DEBUG or settings.DEMO_MODE)


class LocmemBackend(SimulatedBackend):
    """Keeps messages in `outbox`, for tests."""

    name = "locmem"
    outbox: list[SentMessage] = []  # shared on purpose, like mail.outbox

    def deliver(self, message: SentMessage) -> None:
        LocmemBackend.outbox.append(message)
