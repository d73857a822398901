"""The sign-in screens: phone → code → signed in. Each view answers a full page or,
for htmx, the page's own fragment."""

from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import iri_to_uri
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url, replace_url

from auth_flow import devices
from auth_flow.errors import (
    AccountDisabled,
    ChallengeThrottled,
    CodeError,
    PhoneNotAllowed,
    SmsBudgetExhausted,
    SmsFallbackUnavailable,
    SmsUnavailable,
)
from auth_flow.forms import CodeForm, PhoneForm
from auth_flow.selectors import PendingCode, challenge_pending, challenge_resend_in
from auth_flow.services import challenge_issue, challenge_verify
from core.api.errors import expected_outage
from core.http import (
    client_ip,
    redirect_page,
    render_page,
    signed_cookie_get,
    signed_cookie_set,
)
from core.phones import phone_display
from core.staff import PHONE_CODE_BACKEND
from profiles.pending_invite import pending_invite_remember, shared_invite_lookup

SESSION_PHONE = "auth_flow.phone"
# The phone as the person typed it: "Change number" and Back give it back like that.
SESSION_PHONE_TYPED = "auth_flow.phone_typed"
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
    shared = request.GET.get("invite", "")
    response = _sign_in_page(request, shared=shared)
    pending_invite_remember(request, response, shared)
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


def _sign_in_page(request: HttpRequest, *, shared: str = "") -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("profiles:profile")
    typed = request.session.get(SESSION_PHONE_TYPED) or request.session.get(SESSION_PHONE, "")
    form = PhoneForm(initial={"phone": typed})
    # A share link names who invites the visitor (masked; limited per address).
    context = {"form": form, "shared_invite": shared_invite_lookup(request, shared)}
    return render(request, SIGN_IN, context)


@require_POST
def phone_submit(request: HttpRequest) -> HttpResponse:
    """Send a code, then show the code screen (`/auth/code/`). Also the resend button
    of the code screen (`resend=1`).

    The number whose code this browser is still waiting for is not sent a second
    code (the cooldown would refuse it anyway): its code screen comes back instead.
    """
    form = PhoneForm(request.POST)
    # "Send by SMS instead" on a code that went by Telegram: a resend of its own kind.
    by_sms = request.POST.get("channel") == "sms"
    resend = "resend" in request.POST or by_sms
    if not form.is_valid():
        return render_page(request, SIGN_IN, "phone-form", {"form": form}, status=422)
    phone = form.cleaned_data["phone"]
    if not resend and phone == request.session.get(SESSION_PHONE):
        pending = _pending(request)
        if pending is not None:
            _remember_typed(request)
            return _code_screen(request, pending=pending)
    try:
        issued = challenge_issue(
            phone=phone,
            ip=client_ip(request),
            device_token=request.COOKIES.get(devices.COOKIE, ""),
            # This browser's own older code is the one a new code voids.
            previous=request.session.get(SESSION_CHALLENGE, ""),
            by_sms=by_sms,
        )
    except PhoneNotAllowed as error:
        # A form error like any other (422 on the web; the API says 400).
        form.add_error("phone", error.message)
        return render_page(request, SIGN_IN, "phone-form", {"form": form}, status=422)
    except (
        ChallengeThrottled,
        SmsUnavailable,
        SmsBudgetExhausted,
        SmsFallbackUnavailable,
    ) as error:
        # 429 for a limit, 503 when no SMS can go out now; the typed phone stays. A
        # refusal of the request itself is a form error (422, which htmx swaps).
        status = 422 if error.status == 400 else error.status
        if resend and request.session.get(SESSION_PHONE) == phone:
            context = _code_context(request, CodeForm(), notice=error.message)
            response = render_page(request, CODE, "code-form", context, status=status)
        else:
            form.add_error(None, error.message)
            response = render_page(request, SIGN_IN, "phone-form", {"form": form}, status=status)
        if error.retry_after is not None:
            response["Retry-After"] = str(error.retry_after)
        return expected_outage(response) if error.status >= 500 else response
    request.session[SESSION_PHONE] = issued.phone
    request.session[SESSION_CHALLENGE] = issued.challenge
    request.session[SESSION_DEMO_CODE] = issued.demo_code
    if not resend:
        _remember_typed(request)
    pending = PendingCode(
        phone=issued.phone,
        expires_in=issued.expires_in,
        channel=issued.channel,
        sms_fallback=issued.channel == "telegram",
    )
    return _code_screen(request, pending=pending, resend_in=issued.resend_in, resend=resend)


def _remember_typed(request: HttpRequest) -> None:
    request.session[SESSION_PHONE_TYPED] = request.POST.get("phone", "").strip()[:32]


def _code_screen(
    request: HttpRequest,
    *,
    pending: PendingCode,
    resend_in: int | None = None,
    resend: bool = False,
) -> HttpResponse:
    """After a code request: a plain form POST goes to the code screen's own address
    (303, so reload, Back and the language switch keep it); htmx gets the fragment
    and the address (pushed, or replaced on a resend: Back still leads to the phone)."""
    url = reverse("auth_flow:code")
    if not getattr(request, "htmx", False):
        return HttpResponseRedirect(url, status=303)
    context = _code_context(request, CodeForm(), pending=pending, resend_in=resend_in)
    response = render_page(request, CODE, "code-form", context)
    return replace_url(response, url) if resend else push_url(response, url)


def _pending(request: HttpRequest) -> PendingCode | None:
    phone = request.session.get(SESSION_PHONE)
    if not phone:
        return None
    return challenge_pending(phone=phone, token=request.session.get(SESSION_CHALLENGE, ""))


def phone_form_unavailable(request: HttpRequest, notice: str) -> HttpResponse:
    """The sign-in form again during a database outage: the typed phone and the notice
    (core/outage.py calls this; nothing here touches the database)."""
    form = PhoneForm(request.POST)
    form.is_valid()
    form.add_error(None, notice)
    return render_page(request, SIGN_IN, "phone-form", {"form": form}, status=503)


@require_http_methods(["GET", "POST"])
def code(request: HttpRequest) -> HttpResponse:
    """The code screen: GET shows this browser's pending code, POST checks a code."""
    if request.method == "POST":
        return code_submit(request)
    pending = _pending(request)
    if pending is None:
        return redirect("auth_flow:sign_in")
    return render(request, CODE, _code_context(request, CodeForm(), pending=pending))


def code_submit(request: HttpRequest) -> HttpResponse:
    phone = request.session.get(SESSION_PHONE)
    if not phone:
        return redirect_page(request, reverse("auth_flow:sign_in"))
    form = CodeForm(request.POST)
    # The number this code screen was for. Another tab may have asked a code for
    # another number since: this code is not checked against that one (and costs
    # nothing); the screen now shows the number the session waits for.
    shown_for = request.POST.get("phone", "")
    if shown_for and shown_for != phone:
        form.is_valid()
        form.add_error(None, _other_number_message(shown_for, phone))
    elif form.is_valid():
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
            # A form error (422, which htmx swaps in) rather than a bare 403 page;
            # its code puts the support link under it (includes/form_errors.html).
            form.add_error(None, ValidationError(error.message, code=error.code))
        else:
            kept = signed_cookie_get(
                request, NEXT_COOKIE, salt=NEXT_COOKIE_SALT, max_age=NEXT_COOKIE_MAX_AGE
            )
            # Checked again: the cookie was set for this host, but hosts may differ.
            next_url = _next_url_safe(request, kept) or reverse("profiles:profile")
            login(request, result.user, backend=PHONE_CODE_BACKEND)
            for key in (SESSION_PHONE, SESSION_PHONE_TYPED, SESSION_CHALLENGE, SESSION_DEMO_CODE):
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


def _other_number_message(shown_for: str, phone: str) -> str:
    return gettext(
        "This screen was for %(old)s, but a code for %(new)s was asked for since, "
        "in another tab or window. This code was not checked: enter the code sent to "
        "%(new)s, or change the number."
    ) % {"old": phone_display(shown_for), "new": phone_display(phone)}


def _code_context(
    request: HttpRequest,
    form: CodeForm,
    *,
    pending: PendingCode | None = None,
    resend_in: int | None = None,
    notice: str = "",
) -> dict[str, Any]:
    phone = request.session[SESSION_PHONE]
    if pending is None:
        pending = _pending(request)
    return {
        "form": form,
        "phone": phone,
        "demo_code": request.session.get(SESSION_DEMO_CODE),
        "resend_in": _resend_in(request, phone) if resend_in is None else resend_in,
        # 0 when the code can no longer be entered (expired, used up, replaced).
        "expires_in": pending.expires_in if pending else 0,
        "channel": pending.channel if pending else "sms",
        "sms_fallback": pending.sms_fallback if pending else False,
        "expires_clock": _clock(pending.expires_in if pending else 0),
        "notice": notice,
        # The language switch comes back here, even after a POST.
        "language_next": reverse("auth_flow:code"),
    }


def _clock(seconds: int) -> str:
    """4:59, as the countdown shows it (app.js writes the same)."""
    return f"{seconds // 60}:{seconds % 60:02d}"


def _resend_in(request: HttpRequest, phone: str) -> int:
    # The countdown of this browser's own budget: its device's, or the strangers' one.
    device = devices.device_token_verify(token=request.COOKIES.get(devices.COOKIE, ""), phone=phone)
    return challenge_resend_in(phone=phone, device=device)
