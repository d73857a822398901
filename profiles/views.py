"""The member's screens: profile, invite-code activation, referrals."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.http import parse_etags, quote_etag
from django.views.decorators.http import require_GET, require_POST

from core.http import client_ip, member_required, render_page
from core.phones import phone_masked
from profiles.errors import (
    DeleteNotConfirmed,
    DeleteStaffAccount,
    InviteError,
    InviteLookupsThrottled,
)
from profiles.extras import ProfileExtras, profile_extras_collect
from profiles.forms import InviteForm
from profiles.invite_codes import invite_code_normalize
from profiles.member_data import member_data_collect
from profiles.models import User
from profiles.pending_invite import (
    INVITE_COOKIE,
    pending_invite,
    pending_invite_remember,
)
from profiles.selectors import (
    REFERRALS_PAGE_SIZE,
    invite_target_get,
    profile_get,
    referrals_around,
    referrals_page,
    referrals_shown,
    referrals_version,
    referrals_version_share,
)
from profiles.services import invite_activate, invite_lookup_allow, member_delete

PROFILE = "profiles/profile.html"
REFERRALS = "profiles/referrals.html"
DELETED = "profiles/deleted.html"


@member_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    shared = invite_code_normalize(request.GET.get("invite", ""))[:16]
    pending = shared or pending_invite(request)
    form = InviteForm(initial={"invite_code": pending})
    member: User = request.user  # type: ignore[assignment]
    context = _profile_context(member, request, form, offer=_invite_offer(member, pending))
    response = render(request, PROFILE, context)
    pending_invite_remember(request, response, shared)
    return response


@member_required
@require_POST
def invite_submit(request: HttpRequest) -> HttpResponse:
    """Activate a friend's code: from the invite form, or the offer of a share link's code
    (`offer=1`: the answer takes the offer's place at the top of the profile)."""
    form = InviteForm(request.POST)
    member: User = request.user  # type: ignore[assignment]
    from_offer = "offer" in request.POST
    offer = _invite_offer(member, request.POST.get("invite_code", "")) if from_offer else None
    activated = False
    if form.is_valid():
        try:
            member = invite_activate(
                user=member, code=form.cleaned_data["invite_code"], ip=client_ip(request)
            )
        except InviteError as error:
            form.add_error("invite_code", error.message)
        else:
            activated = True
    context = _profile_context(
        member,
        request,
        form,
        just_activated=activated,
        offer=offer,
        offer_answered=from_offer,
        oob=bool(request.htmx and from_offer),
    )
    status = 200 if activated else 422
    fragment = "invite-offer" if from_offer else "invite-section"
    response = render_page(request, PROFILE, fragment, context, status=status)
    if activated and INVITE_COOKIE in request.COOKIES:
        response.delete_cookie(INVITE_COOKIE, samesite="Lax")
    return response


@member_required
@require_POST
def invite_offer_dismiss(request: HttpRequest) -> HttpResponse:
    """ "Not now": the share link's code is forgotten and its offer goes away."""
    # For htmx the offer is swapped for nothing.
    response = HttpResponse("") if request.htmx else redirect("profiles:profile")
    response.delete_cookie(INVITE_COOKIE, samesite="Lax")
    return response


def _invite_offer(member: User, code: str) -> dict[str, str] | None:
    """The share link's code as an offer, while the member may still enter it."""
    code = invite_code_normalize(code)
    if not code or member.activated_at is not None:
        return None
    try:
        target = invite_target_get(user=member, code=code)
    except InviteError:
        return None
    owner = User.objects.filter(pk=target.owner_id).values("phone", "invite_code").first()
    if owner is None:
        return None
    return {"code": owner["invite_code"], "inviter": phone_masked(owner["phone"])}


@member_required
@require_GET
def invite_check(request: HttpRequest) -> HttpResponse:
    """What the invite form would say, while the member types."""
    form = InviteForm(request.GET)
    check: dict[str, Any] = {}
    if form.is_valid() and not invite_lookup_allow(ip=client_ip(request)):
        check = {"error": InviteLookupsThrottled().message, "code": InviteLookupsThrottled.code}
    elif form.is_valid():
        try:
            invite_target_get(user=request.user, code=form.cleaned_data["invite_code"])
        except InviteError as error:
            check = {"error": error.message, "code": error.code}
        else:
            check = {"ok": True}
    elif request.GET.get("invite_code", "").strip():
        check = {"error": form.errors["invite_code"][0], "code": "invalid"}
    return render(request, f"{PROFILE}#invite-check", {"check": check})


@member_required
@require_GET
def referrals(request: HttpRequest) -> HttpResponse:
    """The referrals list, and the poll that keeps it fresh.

    An unchanged poll is answered before anything else: with a shared cache by
    ReferralsPollMiddleware (no database); here from the member's own row, as
    204 for htmx naming the version it holds (`?v=`), 304 for the ETag.
    """
    user: User = request.user  # type: ignore[assignment]
    page_number = request.GET.get("page")
    older_than = _moment(request.GET.get("before"))
    if request.htmx and older_than is not None:
        return _referrals_more(request, user, older_than)
    if request.htmx and page_number:
        page = referrals_page(user=user, number=page_number)
        context = {
            "referrals": page,
            "referrals_version": referrals_version(user=user),
            "referral_phones": settings.REFERRAL_PHONES,
            "profile_extras": _extras(user, page.object_list),
        }
        return render(request, f"{REFERRALS}#referral-rows", context)
    version = referrals_version_share(user=user)
    held = request.GET.get("v")
    if request.htmx and held == version:
        return HttpResponse(status=204)
    if request.htmx and held:
        update = _referrals_update(request, user, version)
        if update is not None:
            return update
    # One member's list, in one language, as a page or a fragment: each its own tag.
    # The page as typed goes in quoted: a raw control character (?page=%00, CRLF)
    # would make a header the server refuses (a 500).
    etag = quote_etag(
        f"{user.pk}.{version}.{request.LANGUAGE_CODE}.{'f' if request.htmx else 'p'}"
        f"{quote(page_number or '', safe='')}"
    )
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        page = referrals_page(user=user, number=page_number)
        context = {
            "referrals": page,
            "referrals_version": version,
            "referral_phones": settings.REFERRAL_PHONES,
            "profile_extras": _extras(user, page.object_list),
            # A poll that held a shorter list: say so to screen readers too (not when
            # someone left, or only a reward changed).
            "announce": bool(request.htmx and held)
            and user.referrals_count > _count(request.GET.get("total")),
        }
        response = render_page(request, REFERRALS, "referrals", context)
    response["ETag"] = etag
    # Kept by this browser only, and asked about again every time.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("HX-Request",))
    return response


# PostgreSQL refuses a time zone offset beyond ±15:59 (a 500 in the query, not a
# row's time either).
OFFSET_LIMIT = timedelta(hours=16)


def _moment(text: str | None) -> datetime | None:
    """A row's time as the list's state carries it (ISO-8601), or None if it is not one."""
    if not text or len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or abs(moment.utcoffset()) >= OFFSET_LIMIT:
        return None
    try:
        # A year that leaves the calendar once in UTC (0001-01-01T00:00+01:00).
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _referrals_more(request: HttpRequest, user: User, older_than: datetime) -> HttpResponse:
    """ "Show more": the next rows after the oldest one shown (a cursor, not a page number,
    so the rows the live list added on top never make it repeat one)."""
    rows = referrals_around(user=user, older_than=older_than, limit=REFERRALS_PAGE_SIZE + 1)
    context = {
        "rows": rows[:REFERRALS_PAGE_SIZE],
        "has_more": len(rows) > REFERRALS_PAGE_SIZE,
        "profile_extras": _extras(user, rows[:REFERRALS_PAGE_SIZE]),
    }
    return render(request, f"{REFERRALS}#referral-more-rows", context)


def _extras(user: User, rows: Any) -> ProfileExtras:
    """What other rooms add to these rows and above the list, read when a template first
    asks (a fragment that shows neither costs nothing)."""
    return SimpleLazyObject(  # type: ignore[return-value]
        lambda: profile_extras_collect(member=user, phones=[row.e164 for row in rows])
    )


def _count(text: str | None) -> int:
    """A count the list's state carries, or 0: ASCII digits only ("²" is a digit to
    str.isdigit(), not to int()), and short."""
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 12 else 0


# At most this many rows shown are brought up to date in place by one poll; a list
# opened further than that is sent again whole.
REFERRALS_SHOWN_MAX = 200


def _referrals_update(request: HttpRequest, user: User, version: str) -> HttpResponse | None:
    """The poll's answer when the list the member has open can be brought up to date in
    place: new referrals' rows go on top of it, however far they expanded it; the rows
    it shows whose notes may have changed (a reward's state) are swapped one by one, and
    the panels (rewards' totals) and the count out of band. The page stays where it is
    (the browser's scroll anchoring keeps the rows below still).

    None when that is not what changed (someone left, too many arrived at once, more
    rows are open than one answer should redo, the client names no list state, or
    nothing shown changed but the version): then the whole list is sent again.
    """
    since = _moment(request.GET.get("since"))
    total = request.GET.get("total", "")
    if since is None or _count(total) == 0:
        return None
    rows = referrals_around(user=user, newer_than=since, limit=REFERRALS_PAGE_SIZE + 1)
    if len(rows) > REFERRALS_PAGE_SIZE or user.referrals_count != _count(total) + len(rows):
        return None
    # The rows shown: from the newest the client holds down to the oldest ("until", on
    # its Show more row; none: it shows the whole list).
    shown = referrals_shown(
        user=user,
        newest=since,
        oldest=_moment(request.GET.get("until")),
        limit=REFERRALS_SHOWN_MAX + 1,
    )
    if len(shown) > REFERRALS_SHOWN_MAX:
        return None
    extras = profile_extras_collect(member=user, phones=[row.e164 for row in rows + shown])
    if not rows and not extras:
        return None
    context = {
        "rows": rows,
        # Only rows with a note can have changed; the others stay as they are.
        "shown": [row for row in shown if row.e164 in extras.notes],
        "profile_extras": extras,
        "referrals_version": version,
        "newest": rows[0].joined_at if rows else since,
        "total": user.referrals_count,
        "oob": True,
    }
    response = render(request, f"{REFERRALS}#referral-update", context)
    response["HX-Retarget"] = "#referral-list"
    response["HX-Reswap"] = "afterbegin"
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("HX-Request",))
    return response


@member_required
@require_GET
def member_data(request: HttpRequest) -> HttpResponse:
    """ "Download my data": everything kept about the member, as a JSON file."""
    member: User = request.user  # type: ignore[assignment]
    data = member_data_collect(member=member)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n",
        content_type="application/json; charset=utf-8",
    )
    name = f"my-data-{member.invite_code}-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@member_required
@require_POST
def account_delete(request: HttpRequest) -> HttpResponse:
    """Delete the account: the form must carry the member's own phone (`confirm`) and
    the CSRF token, so neither a misclick nor another site's form can do it."""
    member: User = request.user  # type: ignore[assignment]
    try:
        member_delete(member=member, confirm=request.POST.get("confirm", ""), via="web")
    except (DeleteNotConfirmed, DeleteStaffAccount) as error:
        form = InviteForm(initial={"invite_code": pending_invite(request)})
        context = _profile_context(member, request, form, delete_error=error.message)
        return render(request, PROFILE, context, status=422 if error.status == 400 else 403)
    logout(request)
    response = redirect("profiles:deleted")
    for cookie in (INVITE_COOKIE,):
        response.delete_cookie(cookie, samesite="Lax")
    return response


@require_GET
def account_deleted(request: HttpRequest) -> HttpResponse:
    return render(request, DELETED, {})


def _profile_context(
    user: User, request: HttpRequest, form: InviteForm, **extra: Any
) -> dict[str, Any]:
    summary = profile_get(user=user)
    if summary is None:  # deactivated since the sign-in check, a moment ago
        raise PermissionDenied
    share_url = request.build_absolute_uri(
        f"{reverse('auth_flow:sign_in')}?invite={user.invite_code}"
    )
    return {
        "summary": summary,
        "activated_invite_code": summary.activated_invite_code,
        "referrals": summary.referrals,
        "profile_extras": _extras(user, summary.referrals.object_list),
        "referrals_version": referrals_version_share(user=user),
        "referral_phones": settings.REFERRAL_PHONES,
        "form": form,
        "share_url": share_url,
        "share_base": share_url.split("?", 1)[0],
        **extra,
    }
