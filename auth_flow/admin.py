from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from auth_flow.models import Challenge, SendBudget
from core.phones import phone_display, phone_search_term


def sent_today_by_provider() -> list[dict]:
    """Codes handed to each provider since midnight (server time zone), and their outcomes."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    accepted = ~Q(delivery__in=[Challenge.Delivery.PENDING, Challenge.Delivery.FAILED])
    return list(
        Challenge.objects.filter(created_at__gte=midnight)
        .exclude(provider="")
        .values("provider")
        .annotate(
            sent=Count("pk", filter=accepted),
            delivered=Count("pk", filter=Q(delivery=Challenge.Delivery.DELIVERED)),
            failed=Count(
                "pk",
                filter=Q(delivery__in=[Challenge.Delivery.FAILED, Challenge.Delivery.UNDELIVERED]),
            ),
        )
        .order_by("provider")
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence, not data to edit: no adding, changing or deleting from the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Challenge)
class ChallengeAdmin(ReadOnlyAdmin):
    """Read-only: challenges are evidence of sign-in attempts, not something to edit.

    Deleting one would also reset the rate limits it counts toward; old ones go
    through `manage.py purge_challenges`. The code itself is never stored in clear.
    """

    list_display = (
        "phone_shown",
        "ip",
        "state",
        "provider",
        "delivery",
        "attempts_left",
        "created_at",
        "expires_at",
        "used_at",
    )
    list_filter = ("state", "delivery", "provider")
    search_fields = ("phone", "ip", "message_id")
    date_hierarchy = "created_at"
    # Keyed hashes only, yet of no use to an operator: nothing to show.
    exclude = ("code_hash", "token_hash")
    change_list_template = "admin/auth_flow/challenge/change_list.html"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "sent_today": sent_today_by_provider()}
        return super().changelist_view(request, extra_context)

    # Shown as people read it; searched and stored as E.164.
    @admin.display(description=_("phone"), ordering="phone")
    def phone_shown(self, obj: Challenge) -> str:
        return phone_display(obj.phone)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Challenge], search_term: str
    ) -> tuple[QuerySet[Challenge], bool]:
        return super().get_search_results(request, queryset, phone_search_term(search_term))


@admin.register(SendBudget)
class SendBudgetAdmin(ReadOnlyAdmin):
    """The hourly SMS budgets as they are being spent (read-only)."""

    list_display = ("key", "window_start", "used", "refused")
    list_filter = ("key",)
    ordering = ("-window_start", "key")
