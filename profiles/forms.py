from django import forms
from django.utils.translation import gettext_lazy as _

from profiles.invite_codes import invite_code_is_well_formed, invite_code_normalize


class InviteForm(forms.Form):
    invite_code = forms.CharField(
        label=_("Friend's invite code"),
        max_length=64,
        error_messages={"required": _("Enter your friend's 6-character invite code.")},
    )

    def clean_invite_code(self) -> str:
        code = invite_code_normalize(self.cleaned_data["invite_code"])
        if not invite_code_is_well_formed(code):
            raise forms.ValidationError(
                _("An invite code is 6 letters and digits, like ABC234."), code="invalid"
            )
        return code
