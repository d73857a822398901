"""The member's screens: profile, invite-code activation, referrals."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from profiles.errors import InviteError
from profiles.forms import InviteForm
from profiles.models import User
from profiles.selectors import (
    invite_owner_get,
    profile_get,
    referrals_page,
    referrals_version,
)
from profiles.services import invite_activate
from site_config.http import render_page

SESSION_INVITE = "profiles.pending_invite"

PROFILE = "profiles/profile.html"
REFERRALS = "profiles/referrals.html"


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    initial = request.GET.get("invite") or request.session.get(SESSION_INVITE, "")
    form = InviteForm(initial={"invite_code": initial[:16]})
    return render(request, PROFILE, _profile_context(request, form))


@login_required
@require_POST
def invite_submit(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    activated = False
    if form.is_valid():
        try:
            invite_activate(user=request.user, code=form.cleaned_data["invite_code"])
        except InviteError as error:
            form.add_error("invite_code", error.message)
        else:
            activated = True
            request.session.pop(SESSION_INVITE, None)
    context = _profile_context(request, form, just_activated=activated)
    status = 200 if activated else 422
    return render_page(request, PROFILE, "invite-section", context, status=status)


@login_required
@require_GET
def invite_check(request: HttpRequest) -> HttpResponse:
    """What the invite form would say, while the member types."""
    form = InviteForm(request.GET)
    check: dict[str, Any] = {}
    if form.is_valid():
        try:
            invite_owner_get(user=request.user, code=form.cleaned_data["invite_code"])
        except InviteError as error:
            check = {"error": error.message, "code": error.code}
        else:
            check = {"ok": True}
    elif request.GET.get("invite_code", "").strip():
        check = {"error": form.errors["invite_code"][0], "code": "invalid"}
    return render(request, f"{PROFILE}#invite-check", {"check": check})


@login_required
@require_GET
def referrals(request: HttpRequest) -> HttpResponse:
    """The referrals list. An htmx poll naming the version it holds gets 204 if unchanged."""
    user: User = request.user  # type: ignore[assignment]
    page_number = request.GET.get("page")
    if request.htmx and page_number:
        page = referrals_page(user=user, number=page_number)
        return render(request, f"{REFERRALS}#referral-rows", {"referrals": page})
    version = referrals_version(user=user)
    if request.htmx and request.GET.get("v") == version:
        return HttpResponse(status=204)
    context = {
        "referrals": referrals_page(user=user, number=page_number),
        "referrals_version": version,
    }
    return render_page(request, REFERRALS, "referrals", context)


def _profile_context(request: HttpRequest, form: InviteForm, **extra: Any) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    summary = profile_get(user=user)
    share_url = request.build_absolute_uri(
        f"{reverse('auth_flow:sign_in')}?invite={user.invite_code}"
    )
    return {
        "summary": summary,
        "activated_invite_code": summary.activated_invite_code,
        "referrals": summary.referrals,
        "referrals_version": referrals_version(user=user),
        "form": form,
        "share_url": share_url,
        **extra,
    }
