from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
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


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=4,
        min_length=4,
        strip=True,
        validators=[RegexValidator(r"^[0-9]{4}\Z", _("The code is 4 digits."))],
        error_messages={
            "required": _("Enter the 4-digit code from the SMS."),
            "max_length": _("The code is 4 digits."),
            "min_length": _("The code is 4 digits."),
        },
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{4}",
                "placeholder": "1234",
            }
        ),
    )
