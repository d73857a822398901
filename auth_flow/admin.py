from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from auth_flow.models import Challenge
from site_config.phones import phone_display, phone_search_term


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    """Read-only: challenges are evidence of sign-in attempts, not something to edit.

    Deleting one would also reset the rate limits it counts toward; old ones go
    through `manage.py purge_challenges`.
    """

    list_display = (
        "phone_shown",
        "ip",
        "state",
        "attempts_left",
        "created_at",
        "expires_at",
        "used_at",
    )
    list_filter = ("state",)
    search_fields = ("phone", "ip")
    date_hierarchy = "created_at"
    # Keyed hashes only, yet of no use to an operator: nothing to show.
    exclude = ("code_hash", "token_hash")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    # Shown as people read it; searched and stored as E.164.
    @admin.display(description=_("phone"), ordering="phone")
    def phone_shown(self, obj: Challenge) -> str:
        return phone_display(obj.phone)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Challenge], search_term: str
    ) -> tuple[QuerySet[Challenge], bool]:
        return super().get_search_results(request, queryset, phone_search_term(search_term))
