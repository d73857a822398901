"""The program and the ledger in the admin. The program needs permissions of its
own (rewards.change_program); grants are changed only through the services
(approve / void actions need rewards.change_grant)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.errors import DomainError
from rewards.models import Grant, Program
from rewards.services import grant_approve, grant_void


class MilestonesField(forms.CharField):
    """Milestones typed as `3=500, 10=2000` (referral count = amount)."""

    def prepare_value(self, value: object) -> str:
        if isinstance(value, list):
            return ", ".join(f"{m['referrals']}={m['amount']}" for m in value)
        return str(value or "")

    def to_python(self, value: object) -> list[dict[str, int]]:
        text = super().to_python(value)
        milestones = []
        for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
            count, sep, amount = part.partition("=")
            try:
                milestones.append({"referrals": int(count), "amount": int(amount)})
            except ValueError:
                raise forms.ValidationError(_("Write milestones as 3=500, 10=2000.")) from None
            if not sep:
                raise forms.ValidationError(_("Write milestones as 3=500, 10=2000."))
        return sorted(milestones, key=lambda m: m["referrals"])


class ProgramForm(forms.ModelForm):
    milestones = MilestonesField(
        label=_("milestones"),
        required=False,
        help_text=_("Referral count = amount, comma-separated: 3=500, 10=2000."),
    )

    class Meta:
        model = Program
        fields = (
            "active",
            "referrer_amount",
            "friend_amount",
            "milestones",
            "unit",
            "hold_days",
            "monthly_cap",
            "total_cap",
        )


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    form = ProgramForm
    list_display = (
        "referrer_amount",
        "friend_amount",
        "unit",
        "hold_days",
        "monthly_cap",
        "total_cap",
        "active",
        "updated_at",
    )


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "member",
        "kind",
        "referral",
        "milestone",
        "amount",
        "unit",
        "state",
        "reason",
        "available_at",
        "created_at",
    )
    list_filter = ("state", "kind", "reason", "unit")
    list_select_related = ("member", "referral")
    search_fields = ("member__phone", "referral__phone")
    ordering = ("-created_at",)
    actions = ("approve", "void")
    readonly_fields = [f.name for f in Grant._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # grants come from activations, never by hand

    def has_delete_permission(self, request: HttpRequest, obj: Grant | None = None) -> bool:
        return False  # the ledger keeps every row; void instead

    def _each(self, request: HttpRequest, grants: QuerySet[Grant], change) -> None:  # noqa: ANN001
        done = failed = 0
        for grant in grants:
            try:
                change(grant=grant, by=request.user)
            except DomainError:
                failed += 1
            else:
                done += 1
        self.message_user(
            request, ngettext("%d reward changed.", "%d rewards changed.", done) % done
        )
        if failed:
            self.message_user(
                request,
                ngettext("%d reward could not change.", "%d rewards could not change.", failed)
                % failed,
                messages.WARNING,
            )

    @admin.action(description=_("Approve the selected rewards"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Grant]) -> None:
        self._each(request, queryset, grant_approve)

    @admin.action(description=_("Void the selected rewards (staff)"), permissions=["change"])
    def void(self, request: HttpRequest, queryset: QuerySet[Grant]) -> None:
        self._each(request, queryset, grant_void)
