"""The sign-in screens: phone → code → signed in. Each view answers a full page or,
for htmx, the page's own fragment."""

from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import iri_to_uri
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from auth_flow import devices
from auth_flow.errors import (
    AccountDisabled,
    ChallengeThrottled,
    CodeError,
    PhoneNotAllowed,
    SmsBudgetExhausted,
    SmsUnavailable,
)
from auth_flow.forms import CodeForm, PhoneForm
from auth_flow.selectors import challenge_resend_in
from auth_flow.services import challenge_issue, challenge_verify
from core.api.errors import expected_outage
from core.http import (
    client_ip,
    redirect_page,
    render_page,
    signed_cookie_get,
    signed_cookie_set,
)
from core.staff import PHONE_CODE_BACKEND
from profiles.pending_invite import pending_invite_remember

SESSION_PHONE = "auth_flow.phone"
# The challenge token of the code this browser asked for: only it can answer that code.
SESSION_CHALLENGE = "auth_flow.challenge"
SESSION_DEMO_CODE = "auth_flow.demo_code"
# Where to go after sign-in (`/?next=`), in a signed cookie like the pending invite:
# a session would write a row for every signed-out visitor sent to sign in.
NEXT_COOKIE = "sign_in_next"
NEXT_COOKIE_SALT = "auth_flow.next"
NEXT_COOKIE_MAX_AGE = 3600

SIGN_IN = "auth_flow/sign_in.html"
CODE = "auth_flow/code.html"


@require_GET
def sign_in(request: HttpRequest) -> HttpResponse:
    """The phone form. `?invite=CODE` is kept for the profile; `?next=` for after sign-in."""
    response = _sign_in_page(request)
    pending_invite_remember(request, response, request.GET.get("invite", ""))
    # As a URI (ASCII): a path may carry any letters, a cookie only Latin-1.
    next_url = _next_url_safe(request, iri_to_uri(request.GET.get("next", "")))
    signed_cookie_set(
        response, NEXT_COOKIE, next_url, salt=NEXT_COOKIE_SALT, max_age=NEXT_COOKIE_MAX_AGE
    )
    return response


def _next_url_safe(request: HttpRequest, url: str) -> str:
    """`url` if it stays on this site (never another host, never down to http), else ""."""
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if allowed else ""


def _sign_in_page(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("profiles:profile")
    form = PhoneForm(initial={"phone": request.session.get(SESSION_PHONE, "")})
    return render(request, SIGN_IN, {"form": form})


@require_POST
def phone_submit(request: HttpRequest) -> HttpResponse:
    """Send a code. Also the resend button of the code screen (`resend=1`)."""
    form = PhoneForm(request.POST)
    resend = "resend" in request.POST
    if not form.is_valid():
        return render_page(request, SIGN_IN, "phone-form", {"form": form}, status=422)
    phone = form.cleaned_data["phone"]
    try:
        issued = challenge_issue(
            phone=phone,
            ip=client_ip(request),
            device_token=request.COOKIES.get(devices.COOKIE, ""),
            # This browser's own older code is the one a new code voids.
            previous=request.session.get(SESSION_CHALLENGE, ""),
        )
    except PhoneNotAllowed as error:
        # A form error like any other (422 on the web; the API says 400).
        form.add_error("phone", error.message)
        return render_page(request, SIGN_IN, "phone-form", {"form": form}, status=422)
    except (ChallengeThrottled, SmsUnavailable, SmsBudgetExhausted) as error:
        # 429 for a limit, 503 when no SMS can go out now; the typed phone stays.
        if resend and request.session.get(SESSION_PHONE) == phone:
            context = _code_context(request, CodeForm(), notice=error.message)
            response = render_page(request, CODE, "code-form", context, status=error.status)
        else:
            form.add_error(None, error.message)
            response = render_page(
                request, SIGN_IN, "phone-form", {"form": form}, status=error.status
            )
        response["Retry-After"] = str(error.retry_after)
        return expected_outage(response) if error.status >= 500 else response
    request.session[SESSION_PHONE] = issued.phone
    request.session[SESSION_CHALLENGE] = issued.challenge
    request.session[SESSION_DEMO_CODE] = issued.demo_code
    context = _code_context(request, CodeForm(), resend_in=issued.resend_in)
    return render_page(request, CODE, "code-form", context)


def phone_form_unavailable(request: HttpRequest, notice: str) -> HttpResponse:
    """The sign-in form again during a database outage: the typed phone and the notice
    (core/outage.py calls this; nothing here touches the database)."""
    form = PhoneForm(request.POST)
    form.is_valid()
    form.add_error(None, notice)
    return render_page(request, SIGN_IN, "phone-form", {"form": form}, status=503)


@require_POST
def code_submit(request: HttpRequest) -> HttpResponse:
    phone = request.session.get(SESSION_PHONE)
    if not phone:
        return redirect_page(request, reverse("auth_flow:sign_in"))
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            result = challenge_verify(
                phone=phone,
                code=form.cleaned_data["code"],
                challenge=request.session.get(SESSION_CHALLENGE, ""),
                ip=client_ip(request),
            )
        except CodeError as error:
            form.add_error("code", error.message)
        except AccountDisabled as error:
            # A form error (422, which htmx swaps in) rather than a bare 403 page.
            form.add_error(None, error.message)
        else:
            kept = signed_cookie_get(
                request, NEXT_COOKIE, salt=NEXT_COOKIE_SALT, max_age=NEXT_COOKIE_MAX_AGE
            )
            # Checked again: the cookie was set for this host, but hosts may differ.
            next_url = _next_url_safe(request, kept) or reverse("profiles:profile")
            login(request, result.user, backend=PHONE_CODE_BACKEND)
            for key in (SESSION_PHONE, SESSION_CHALLENGE, SESSION_DEMO_CODE):
                request.session.pop(key, None)
            response = redirect_page(request, next_url)
            if NEXT_COOKIE in request.COOKIES:
                response.delete_cookie(NEXT_COOKIE, samesite="Lax")
            _remember_device(response, result.device_token)
            return response
    return render_page(request, CODE, "code-form", _code_context(request, form), status=422)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect_page(request, reverse("auth_flow:sign_in"))


def _remember_device(response: HttpResponse, token: str) -> None:
    """The device cookie: this browser's next code requests for the phone get their own
    budget. It outlives sign-out on purpose: the browser stays a known device."""
    response.set_cookie(
        devices.COOKIE,
        token,
        max_age=int(devices.MAX_AGE.total_seconds()),
        secure=not settings.DEBUG,
        httponly=True,
        samesite="Lax",
    )


def _code_context(
    request: HttpRequest, form: CodeForm, *, resend_in: int | None = None, notice: str = ""
) -> dict[str, Any]:
    phone = request.session[SESSION_PHONE]
    return {
        "form": form,
        "phone": phone,
        "demo_code": request.session.get(SESSION_DEMO_CODE),
        "resend_in": _resend_in(request, phone) if resend_in is None else resend_in,
        "notice": notice,
    }


def _resend_in(request: HttpRequest, phone: str) -> int:
    # The countdown of this browser's own budget: its device's, or the strangers' one.
    device = devices.device_token_verify(token=request.COOKIES.get(devices.COOKIE, ""), phone=phone)
    return challenge_resend_in(phone=phone, device=device)
