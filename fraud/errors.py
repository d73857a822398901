from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class FlagVerdictInvalid(DomainError):
    code = "flag_verdict_invalid"
    field = "status"

    def __init__(self) -> None:
        super().__init__(_("A flag can only be marked reviewed or fraud."))
