from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fraud.selectors import flags_of_member
from profiles.admin import UserAdmin
from profiles.models import User


def fraud_flags_html(*, member: User) -> str:
    """The flags raised about a member (as inviter or referral), for their admin page."""
    if member.pk is None:
        return "—"
    flags = list(flags_of_member(member=member)[:50])
    if not flags:
        return gettext("No flags.")
    items = format_html_join(
        "",
        '<li data-flag="{}">{} ({}) — {} — {}</li>',
        (
            (
                flag.reason,
                flag.get_reason_display(),
                flag.reason,
                flag.get_status_display(),
                "; ".join(
                    f"{row.get('phone', '')} {row.get('event', '')} {row.get('at', '')[:19]}"
                    + (f" {row['ip']}" if row.get("ip") else "")
                    for row in flag.evidence
                ),
            )
            for flag in flags
        ),
    )
    link = reverse("staff_console:flags")
    return format_html(
        '<ul class="fraud-flags">{}</ul><a href="{}">{}</a>',
        items,
        link,
        gettext("Review on the console"),
    )


# The flags on a member's admin page are added here, not in profiles.admin:
# profiles must not depend on the console (it sits below it). staff_console
# imports profiles.admin above, so profiles' registration exists to replace.
class UserWithFlagsAdmin(UserAdmin):
    readonly_fields = (*UserAdmin.readonly_fields, "fraud_flags")
    # Shown with the referral facts, after the member's activation.
    fieldsets = tuple(
        (name, {**opts, "fields": (*opts["fields"], "fraud_flags")})
        if "invite_code" in opts["fields"]
        else (name, opts)
        for name, opts in UserAdmin.fieldsets
    )

    @admin.display(description=_("fraud flags"))
    def fraud_flags(self, obj: User) -> str:
        # Read-only: staff review flags on the console (/staff/flags/).
        return fraud_flags_html(member=obj)


admin.site.unregister(User)
admin.site.register(User, UserWithFlagsAdmin)
