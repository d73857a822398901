from django.contrib import admin
from django.http import HttpRequest

from fraud.models import FraudFlag


@admin.register(FraudFlag)
class FraudFlagAdmin(admin.ModelAdmin):
    list_display = ("reason", "inviter", "subject", "status", "raised_at", "reviewed_by")
    list_filter = ("reason", "status")
    list_select_related = ("inviter", "subject", "reviewed_by")
    search_fields = ("inviter__phone", "inviter__invite_code", "subject__phone")
    readonly_fields = (
        "reason",
        "inviter",
        "subject",
        "evidence",
        "raised_at",
        "updated_at",
        "reviewed_by",
        "reviewed_at",
    )
    ordering = ("-updated_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # flags come from the rules, never by hand
