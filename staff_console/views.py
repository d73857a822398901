"""The operator's console: one view per screen, answering htmx with the page's
own fragment and everyone else with the whole page."""

from typing import Any

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.http import fragment_wanted, render_page
from core.staff import staff_required
from fraud import selectors as fraud_selectors
from fraud import services as fraud_services
from fraud.models import FraudFlag
from profiles.models import User
from profiles.services import member_suspend as profiles_member_suspend
from staff_console import selectors
from staff_console.chart import chart_draw
from staff_console.csv_export import csv_lines

CONSOLE = "staff_console/console.html"
FLAGS = "staff_console/flags.html"


@staff_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    period = selectors.range_get(request.GET.get("range"))
    leaders = selectors.leaderboard_page(period=period, number=request.GET.get("page"))
    context: dict[str, Any] = {
        "period": period,
        "ranges": selectors.RANGES.values(),
        "leaders": leaders,
    }
    if fragment_wanted(request) and request.htmx.target == "leaderboard":  # type: ignore[attr-defined]
        return render_page(request, CONSOLE, "leaderboard", context)
    context["stats"] = selectors.stats_get(period=period)
    context["chart"] = chart_draw(days=selectors.day_counts_list(period=period))
    if fragment_wanted(request):
        return render_page(request, CONSOLE, "range-section", context)
    suspended, suspended_count = selectors.suspended_list()
    context.update(
        open_flags=fraud_selectors.open_flags_count(),
        suspended=suspended,
        suspended_count=suspended_count,
    )
    return render_page(request, CONSOLE, "range-section", context)


def _flags_context(request: HttpRequest) -> dict[str, Any]:
    reason = request.GET.get("reason") or ""
    status = request.GET.get("status") or ""
    return {
        "flags": fraud_selectors.flags_page(
            reason=reason, status=status, number=request.GET.get("page")
        ),
        "reason": reason if reason in FraudFlag.Reason.values else "",
        "status": status if status in FraudFlag.Status.values else "",
        "reasons": FraudFlag.Reason.choices,
        "statuses": FraudFlag.Status.choices,
        "back": request.get_full_path(),
    }


@staff_required
@require_GET
def flags(request: HttpRequest) -> HttpResponse:
    context = _flags_context(request)
    return render_page(request, FLAGS, "flag-list", context)


def _back_to_flags(request: HttpRequest) -> HttpResponse:
    """After a form post without JavaScript: the flags page as it was (303)."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("staff_console:flags")
    return HttpResponseRedirect(back, status=303)


def _page_url(request: HttpRequest) -> str:
    """The page an htmx request came from, for the no-JavaScript `next` of a new row."""
    page = request.htmx.current_url_abs_path or ""  # type: ignore[attr-defined]
    return page if page.startswith("/") else reverse("staff_console:flags")


# A verdict moves money: `fraud` voids the rewards the flag touches, `reviewed`
# releases them. So it takes the flag permission, not just a staff session.
@staff_required(perm="fraud.change_fraudflag")
@require_POST
def flag_review(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(FraudFlag, pk=pk)
    try:
        fraud_services.flag_review(
            flag=flag,
            status=request.POST.get("status", ""),
            by=request.user,  # type: ignore[arg-type]
        )
    except DomainError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    if fragment_wanted(request):
        return _flag_row(request, flag_pk=flag.pk, just_reviewed=True)
    return _back_to_flags(request)


@staff_required
@require_POST
def member_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
    try:
        profiles_member_suspend(member=member, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        # Not allowed to (no permission, a staff target): 403; own account: 400.
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    flag_id = request.POST.get("flag", "")
    if fragment_wanted(request) and flag_id.isdigit():
        return _flag_row(request, flag_pk=int(flag_id), just_suspended=True)
    return _back_to_flags(request)


def _flag_row(request: HttpRequest, *, flag_pk: int, **outcome: bool) -> HttpResponse:
    """The flag's row after an action on it, for htmx to swap in place."""
    flag = fraud_selectors.flag_get(pk=flag_pk)
    if flag is None:
        raise Http404
    context = {"flag": flag, "back": _page_url(request), **outcome}
    return render(request, f"{FLAGS}#flag-row", context)


# Every member's phone number: for operators who may see members, not for all staff.
@staff_required(perm="profiles.view_user")
@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every member as CSV, streamed: a chunk of members in memory at a time."""
    response = StreamingHttpResponse(
        csv_lines(selectors.export_rows()), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="members-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
