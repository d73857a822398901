from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from core.phones import phone_display, phone_search_term
from profiles.models import User
from profiles.services import member_insert


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("-date_joined",)
    list_display = (
        "phone_shown",
        "invite_code",
        "referred_by_shown",
        "activated_at",
        "referral_count",
        "date_joined",
    )
    list_select_related = ("referred_by",)
    search_fields = ("phone", "invite_code", "referred_by__phone", "referred_by__invite_code")
    list_filter = ("is_staff", "is_active")
    readonly_fields = (
        "invite_code",
        "referred_by",
        "activated_at",
        "date_joined",
        "last_login",
    )
    fieldsets = (
        (None, {"fields": ("phone", "password")}),
        (_("Referral"), {"fields": ("invite_code", "referred_by", "activated_at")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("phone", "password1", "password2")}),)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # One aggregate in the list query instead of a count per row.
        return super().get_queryset(request).annotate(referral_total=Count("referrals"))

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        # The add form saves through ModelForm, not create_user(): a new member needs
        # its invite code drawn the same way as everyone else's.
        if change:
            super().save_model(request, obj, form, change)
        else:
            member_insert(user=obj)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: User | None = None,
    ) -> HttpResponse:
        # The page's title names the member as people read the number.
        if obj is not None:
            context["subtitle"] = phone_display(obj.phone)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Shown as people read them; searched, sorted and stored as E.164.
    @admin.display(description=_("phone"), ordering="phone")
    def phone_shown(self, obj: User) -> str:
        return phone_display(obj.phone)

    @admin.display(description=_("invited by"), ordering="referred_by__phone")
    def referred_by_shown(self, obj: User) -> str | None:
        return phone_display(obj.referred_by.phone) if obj.referred_by else None

    @admin.display(description=_("referrals"), ordering="referral_total")
    def referral_count(self, obj: User) -> int:
        return obj.referral_total  # type: ignore[attr-defined]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        return super().get_search_results(request, queryset, phone_search_term(search_term))
