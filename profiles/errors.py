from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class InviteError(DomainError):
    field = "invite_code"


class InviteNotFound(InviteError):
    code = "invite_not_found"

    def __init__(self) -> None:
        super().__init__(_("No member has this invite code. Check it and try again."))


class InviteOwnCode(InviteError):
    code = "invite_own_code"

    def __init__(self) -> None:
        super().__init__(_("This is your own invite code. Enter a friend's code."))


class InviteAlreadyActivated(InviteError):
    code = "invite_already_activated"

    def __init__(self) -> None:
        super().__init__(_("You have already entered an invite code; it can be entered only once."))


class InviteCycle(InviteError):
    code = "invite_cycle"

    def __init__(self) -> None:
        super().__init__(_("This member joined through you, so you cannot enter their code."))


class InviteLookupsThrottled(InviteError):
    """Too many codes looked up from one address this hour (the check while typing)."""

    code = "invite_lookups_throttled"
    status = 429

    def __init__(self) -> None:
        super().__init__(
            _(
                "Too many invite codes were checked from your network. "
                "Press Activate to try this one."
            )
        )


class SuspendOwnAccount(DomainError):
    code = "suspend_own_account"

    def __init__(self) -> None:
        super().__init__(_("You cannot suspend your own account."))


class SuspendNotAllowed(DomainError):
    """The operator may not change members at all (no `profiles.change_user`)."""

    code = "suspend_not_allowed"
    status = 403

    def __init__(self) -> None:
        super().__init__(_("You do not have permission to suspend members."))


class SuspendStaffAccount(DomainError):
    """Only a superuser may suspend staff: a plain operator must not lock out an admin."""

    code = "suspend_staff_account"
    status = 403

    def __init__(self) -> None:
        super().__init__(_("Only a superuser can suspend a staff account."))


class DeleteNotConfirmed(DomainError):
    """Deleting an account needs the member's own phone typed in `confirm`."""

    code = "delete_not_confirmed"
    field = "confirm"

    def __init__(self) -> None:
        super().__init__(
            _("To delete your account, type your own phone number, for example +79991234567.")
        )


class DeleteStaffAccount(DomainError):
    """A staff account is removed by an administrator, not from the member's profile."""

    code = "delete_staff_account"
    status = 403

    def __init__(self) -> None:
        super().__init__(_("A staff account cannot be deleted here. Ask an administrator."))
