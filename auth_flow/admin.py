from django.contrib import admin
from django.http import HttpRequest

from auth_flow.models import Challenge


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    """Read-only: challenges are evidence of sign-in attempts, not something to edit.

    Deleting one would also reset the rate limits it counts toward; old ones go
    through `manage.py purge_challenges`.
    """

    list_display = ("phone", "ip", "state", "attempts_left", "created_at", "expires_at", "used_at")
    list_filter = ("state",)
    search_fields = ("phone", "ip")
    date_hierarchy = "created_at"
    exclude = ("code_hash",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
