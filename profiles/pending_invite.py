"""A friend's code from a share link (`/?invite=CODE`), kept through sign-in.

In a signed cookie: a session would write a database row for every visitor who
opens a link, even one who never signs in (or a bot). The sign-in page (auth_flow)
remembers it and the profile's invite form reads it, so it lives here, not in
either app's views.
"""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from core.http import client_ip, signed_cookie_get, signed_cookie_set
from core.phones import phone_masked
from profiles.invite_codes import invite_code_is_well_formed, invite_code_normalize
from profiles.models import User
from profiles.services import invite_lookup_allow

INVITE_COOKIE = "pending_invite"
INVITE_COOKIE_SALT = "profiles.pending_invite"
INVITE_COOKIE_MAX_AGE = 7 * 24 * 3600


def pending_invite_remember(request: HttpRequest, response: HttpResponse, code: str) -> None:
    """Keep the share link's code for the profile's invite form, on `response`."""
    # Longer than any code, so a mistyped link still shows what it carried.
    code = invite_code_normalize(code)[:16]
    # No invite code has anything but letters and digits.
    if code.isalnum() and code != pending_invite(request):
        signed_cookie_set(
            response, INVITE_COOKIE, code, salt=INVITE_COOKIE_SALT, max_age=INVITE_COOKIE_MAX_AGE
        )


def pending_invite(request: HttpRequest) -> str:
    """The remembered code, or "" (none, expired or tampered with)."""
    return signed_cookie_get(
        request, INVITE_COOKIE, salt=INVITE_COOKIE_SALT, max_age=INVITE_COOKIE_MAX_AGE
    )


@dataclass(frozen=True)
class SharedInvite:
    """What a share link's code says to the visitor who opened it.

    `state`: "found" (then `inviter` is the owner's phone, masked), "not_found",
    or "throttled" (this address looked up too many codes this hour: nothing said).
    """

    code: str
    state: str
    inviter: str = ""


def shared_invite_lookup(request: HttpRequest, code: str) -> SharedInvite | None:
    """Who invites the visitor of `/?invite=CODE`; None without a code.

    Every lookup that reaches the database counts against the client address's
    hourly limit (shared with the profile's check while typing), so the codes
    cannot be walked to collect numbers; the number is masked anyway.
    """
    code = invite_code_normalize(code)[:16]
    if not code:
        return None
    if not invite_code_is_well_formed(code):
        return SharedInvite(code=code, state="not_found")
    if not invite_lookup_allow(ip=client_ip(request)):
        return SharedInvite(code=code, state="throttled")
    phone = User.objects.filter(invite_code=code, is_active=True).values_list("phone", flat=True)
    found = phone.first()
    if found is None:
        return SharedInvite(code=code, state="not_found")
    return SharedInvite(code=code, state="found", inviter=phone_masked(found))
