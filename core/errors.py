"""The error every domain rule raises, shared by the web views and the API."""

from django.utils.functional import Promise


class DomainError(Exception):
    """A rule said no. `code` is stable and machine-readable; `message` is for people."""

    code = "error"
    status = 400
    field: str | None = None

    def __init__(self, message: str | Promise, *, retry_after: int | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.retry_after = retry_after
