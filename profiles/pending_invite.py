"""A friend's code from a share link (`/?invite=CODE`), kept through sign-in.

In a signed cookie: a session would write a database row for every visitor who
opens a link, even one who never signs in (or a bot). The sign-in page (auth_flow)
remembers it and the profile's invite form reads it, so it lives here, not in
either app's views.
"""

from django.http import HttpRequest, HttpResponse

from core.http import signed_cookie_get, signed_cookie_set
from profiles.invite_codes import invite_code_normalize

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
