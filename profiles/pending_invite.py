"""A friend's code from a share link (`/?invite=CODE`), kept through sign-in.

In a signed cookie: a session would write a database row for every visitor who
opens a link, even one who never signs in (or a bot). The sign-in page (auth_flow)
remembers it and the profile's invite form reads it, so it lives here, not in
either app's views.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from profiles.selectors import invite_code_normalize

INVITE_COOKIE = "pending_invite"
INVITE_COOKIE_SALT = "profiles.pending_invite"
INVITE_COOKIE_MAX_AGE = 7 * 24 * 3600


def pending_invite_remember(request: HttpRequest, response: HttpResponse, code: str) -> None:
    """Keep the share link's code for the profile's invite form, on `response`."""
    # Longer than any code, so a mistyped link still shows what it carried.
    code = invite_code_normalize(code)[:16]
    # A header carries only Latin-1 (gunicorn answers 500 otherwise), and no
    # invite code has anything but ASCII letters and digits.
    if not code or not (code.isascii() and code.isalnum()) or code == pending_invite(request):
        return
    response.set_signed_cookie(
        INVITE_COOKIE,
        code,
        salt=INVITE_COOKIE_SALT,
        max_age=INVITE_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def pending_invite(request: HttpRequest) -> str:
    """The remembered code, or "" (none, expired or tampered with)."""
    return request.get_signed_cookie(
        INVITE_COOKIE, default="", salt=INVITE_COOKIE_SALT, max_age=INVITE_COOKIE_MAX_AGE
    )
