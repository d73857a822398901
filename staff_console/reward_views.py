"""The console's rewards screen: the queues (waiting out the hold, held by a fraud
flag, approved and waiting to be paid), approve / void / mark fulfilled, what the
program cost in the range, and the grants as CSV."""

from typing import Any

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.http import fragment_wanted, render_page
from core.staff import staff_required
from rewards import selectors as rewards_selectors
from rewards import services as rewards_services
from staff_console import selectors
from staff_console.csv_export import csv_stream

REWARDS = "staff_console/rewards.html"
VIEW = "rewards.view_grant"
CHANGE = "rewards.change_grant"
PAGE_SIZE = 50
ACTIONS = {
    "approve": rewards_services.grant_approve,
    "void": rewards_services.grant_void,
    "fulfil": rewards_services.grant_fulfil,
}


def _queue(request: HttpRequest) -> str:
    queue = request.GET.get("queue") or request.POST.get("queue") or ""
    return queue if queue in rewards_selectors.QUEUES else "approved"


@staff_required(perm=VIEW)
@require_GET
def rewards(request: HttpRequest) -> HttpResponse:
    queue = _queue(request)
    period = selectors.range_get(request.GET.get("range"))
    context: dict[str, Any] = {
        "queue": queue,
        "queues": rewards_selectors.QUEUES,
        "grants": rewards_selectors.grants_queue_page(
            queue=queue, number=request.GET.get("page"), per_page=PAGE_SIZE
        ),
        "period": period,
        "ranges": selectors.RANGES.values(),
        # The cost card is outside the queue's fragment: an htmx tab switch skips it.
        "cost": []
        if fragment_wanted(request)
        else sorted(
            rewards_selectors.program_cost(start=period.start(), end=timezone.now()).items()
        ),
    }
    return render_page(request, REWARDS, "grant-list", context)


@staff_required(perm=CHANGE)
@require_POST
def grant_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    act = ACTIONS.get(action)
    grant = rewards_selectors.grant_get(pk=pk)
    if act is None or grant is None:
        raise Http404
    error = ""
    try:
        act(grant=grant, by=request.user)
    except DomainError as refused:
        error = str(refused.message)
    if not getattr(request, "htmx", False):
        back = reverse("staff_console:rewards") + f"?queue={_queue(request)}"
        return HttpResponseRedirect(back, status=303)
    context = {"grant": rewards_selectors.grant_get(pk=pk), "error": error, "done": not error}
    return render_page(request, REWARDS, "grant-row", context, status=422 if error else 200)


@staff_required(perm=VIEW)
@require_GET
def rewards_export(request: HttpRequest) -> StreamingHttpResponse:
    """Every grant as CSV, streamed a chunk of rows at a time, formula-safe (phones
    and any text a spreadsheet would evaluate get a leading quote)."""
    titles = [
        _("id"),
        _("member"),
        _("kind"),
        _("amount"),
        _("unit"),
        _("state"),
        _("reason"),
        _("referral"),
        _("milestone"),
        _("created"),
        _("available from"),
        _("fulfilled"),
    ]
    rows = rewards_selectors.grants_export_rows()
    response = StreamingHttpResponse(
        csv_stream(titles, rows), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="rewards-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
