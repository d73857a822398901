from django.conf import settings
from django.core.checks import Error, register

from auth_flow.sms import sms_backend_class

OTP_LIMITS = (
    "OTP_TTL",
    "OTP_MAX_ATTEMPTS",
    "OTP_PHONE_HOURLY",
    "OTP_PHONE_DAILY",
    "OTP_IP_HOURLY",
)


@register("security", deploy=False)
def demo_backend_needs_demo_mode(**kwargs: object) -> list[Error]:
    """A backend that shows codes to whoever asks: never by accident in production.

    Judged by what the backend does, not by its name, so a dotted path to the demo
    backend is caught too.
    """
    if settings.DEBUG or settings.DEMO_MODE:
        return []
    if sms_backend_class().shows_code:
        return [
            Error(
                f"SMS_BACKEND={settings.SMS_BACKEND} shows sign-in codes to whoever asks.",
                hint="Choose a real SMS backend, or set DEMO_MODE=1 for a public demo on purpose.",
                id="auth_flow.E001",
            )
        ]
    return []


@register()
def otp_limits_are_positive(**kwargs: object) -> list[Error]:
    return [
        Error(f"{name} must be a positive whole number.", id="auth_flow.E002")
        for name in OTP_LIMITS
        if getattr(settings, name) < 1
    ]
