from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class GrantVoided(DomainError):
    code = "reward_voided"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("This reward was voided; it cannot change any more."))


class GrantFulfilled(DomainError):
    code = "reward_fulfilled"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("This reward was already received; it cannot be voided."))


class GrantNotApproved(DomainError):
    code = "reward_not_approved"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("This reward is not approved yet."))


class GrantOnHold(DomainError):
    code = "reward_on_hold"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("An open fraud flag holds this reward until staff review it."))


class ProgramInvalid(DomainError):
    code = "program_invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
