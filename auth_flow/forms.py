import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

PHONE_INVALID = _("Enter a valid phone number, for example +7 999 123-45-67 or 8 999 123-45-67.")


class PhoneForm(forms.Form):
    phone = PhoneNumberField(
        label=_("Phone number"),
        region=settings.PHONE_DEFAULT_REGION,
        max_length=32,
        error_messages={"invalid": PHONE_INVALID, "required": PHONE_INVALID},
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "autocomplete": "tel",
                "inputmode": "tel",
                "placeholder": "+7 999 123-45-67",
            }
        ),
    )

    def clean_phone(self) -> str:
        return self.cleaned_data["phone"].as_e164


CODE_INVALID = _("The code is 4 digits.")
# Longer input is not looked at: no code hides in a page of text.
CODE_INPUT_MAX = 200


def code_from_text(value: str) -> str | None:
    """The 4-digit code in what people type or paste: "1234", "12 34", "1-2-3-4",
    "Your code: 1234", or the whole SMS ("...: 1234 ... @host #1234"). None unless
    it holds exactly one 4-digit code. Only ASCII digits count."""
    if len(value) > CODE_INPUT_MAX or "\x00" in value:
        return None
    groups = re.findall(r"[0-9]+", value)
    digits = "".join(groups)
    if len(digits) == 4:
        return digits
    # The whole SMS: the code, then the origin-bound line "@host #code" (the host
    # may hold digits too, an IP address for one).
    origin = re.search(r"#([0-9]{4})\s*\Z", value)
    if origin and origin[1] in groups[:-1]:
        return origin[1]
    return None


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        strip=True,
        error_messages={"required": _("Enter the 4-digit code from the SMS.")},
        widget=forms.TextInput(
            attrs={
                # No maxlength or pattern: a pasted "Your code: 1234" must fit and is
                # taken apart here (and by app.js as it is pasted).
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "placeholder": "1234",
            }
        ),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Null characters get the same one message as any other malformed code.
        self.fields["code"].validators = []

    def clean_code(self) -> str:
        # One message for every malformed input, however many rules it breaks.
        code = code_from_text(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(CODE_INVALID, code="invalid")
        return code
