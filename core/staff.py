"""Staff pages need the password sign-in; the phone code alone never opens them.

Members sign in with a 4-digit code (`ModelBackend`, as before). Staff sign in
with their password through the admin's login form, which authenticates with
`StaffPasswordBackend`; Django records that backend in the session, so a staff
member who signed in by phone code is a member, not an operator, until they
enter their password.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

# The backend a member's phone-code sign-in is recorded with (sessions from
# before the split carry it too, and stay valid as member sessions).
PHONE_CODE_BACKEND = "django.contrib.auth.backends.ModelBackend"
PASSWORD_BACKEND = "core.backends.StaffPasswordBackend"  # noqa: S105 - a dotted path


def password_signed_in(request: HttpRequest) -> bool:
    """Whether this request's session was opened with a password (not a phone code)."""
    return bool(
        request.user.is_authenticated
        and request.session.get(BACKEND_SESSION_KEY) == PASSWORD_BACKEND
    )


def staff_signed_in(request: HttpRequest) -> bool:
    return password_signed_in(request) and request.user.is_active and request.user.is_staff


def staff_required(
    view: Callable[..., HttpResponse] | None = None, *, perm: str | None = None
) -> Any:
    """Staff with a password session pass; anyone else signed in gets 403; the
    anonymous (and staff signed in by phone code only) go to the staff sign-in.

    `@staff_required(perm="app.codename")` also asks for that permission (403
    without it): being staff opens the console, not every member's data.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if staff_signed_in(request):
                if perm is not None and not request.user.has_perm(perm):
                    raise PermissionDenied
                return view(request, *args, **kwargs)
            user = request.user
            if user.is_authenticated and not user.is_staff:
                raise PermissionDenied
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))

        return wrapper

    return decorate if view is None else decorate(view)
