from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.webhook_receiver import WebhookReceiver


@pytest.fixture(autouse=True)
def _private_allowed(settings: Any) -> None:
    """The receiver is on 127.0.0.1: tests lift the SSRF rule unless they test it."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver().start()
    yield fake
    fake.stop()
