"""Several providers in order: the next is tried when one fails for a provider
reason (down, timed out, credentials, balance, circuit open) or when its channel
cannot reach the number (not on Telegram), never when the number itself was
refused (another provider would be asked for the same thing)."""

from auth_flow.sms.base import BaseBackend, ChannelRefused, ProviderError, SendResult


class ChainBackend(BaseBackend):
    name = "chain"

    def __init__(self, backends: list[BaseBackend]) -> None:
        self.backends = backends

    @property
    def shows_code(self) -> bool:
        return any(backend.shows_code for backend in self.backends)

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        last: ProviderError | ChannelRefused | None = None
        for backend in self.backends:
            try:
                return backend.send(phone=phone, text=text, code=code)
            except (ProviderError, ChannelRefused) as error:
                last = error
        assert last is not None  # noqa: S101 - a chain has at least one backend
        raise last
