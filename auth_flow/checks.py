from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from auth_flow.sms import sms_backend_classes
from auth_flow.sms.guards import blocked_prefix_errors, unknown_number_types

OTP_LIMITS = (
    "OTP_TTL",
    "OTP_MAX_ATTEMPTS",
    "OTP_PHONE_HOURLY",
    "OTP_PHONE_DAILY",
    "OTP_IP_HOURLY",
    "OTP_GLOBAL_HOURLY",
    "OTP_REGION_HOURLY",
    "OTP_PREFIX_HOURLY",
    "OTP_PREFIX_DIGITS",
)


def sms_configuration_errors() -> list[str]:
    """What makes SMS_BACKEND unsafe or unusable; empty when all is well.

    A backend that shows codes to whoever asks (judged by what it does, not by its
    name, so a dotted path to the demo backend counts, anywhere in a chain) is never
    served by accident: with DEBUG off it needs DEMO_MODE, set on purpose.
    """
    try:
        classes = sms_backend_classes()
    except ImportError as error:
        return [f"SMS_BACKEND={settings.SMS_BACKEND}: {error}"]
    if not classes:
        return ["SMS_BACKEND must name at least one backend."]
    errors = []
    if not (settings.DEBUG or settings.DEMO_MODE) and any(c.reveals_codes for c in classes):
        errors.append(
            f"SMS_BACKEND={settings.SMS_BACKEND} shows sign-in codes to whoever asks: with "
            "DEBUG off choose a real SMS backend, or set DEMO_MODE=1 for a public demo on purpose."
        )
    for backend_class in classes:
        errors.extend(backend_class.configuration_errors())
    if not 0 <= settings.OTP_DEVICE_HOURLY < settings.OTP_GLOBAL_HOURLY:
        errors.append(
            "OTP_DEVICE_HOURLY must be at least 0 and below OTP_GLOBAL_HOURLY (strangers get "
            "the difference)."
        )
    if settings.OTP_PREFIX_DIGITS > 13:  # the budget's key: "px:" and the digits, 16 at most
        errors.append("OTP_PREFIX_DIGITS must be 13 or less.")
    errors.extend(blocked_prefix_errors(settings.OTP_BLOCKED_PREFIXES))
    unknown = unknown_number_types(settings.OTP_NUMBER_TYPES)
    if unknown:
        errors.append(f"OTP_NUMBER_TYPES has unknown types: {', '.join(unknown)}.")
    return errors


def sms_configuration_refuse() -> None:
    """Called while the app loads (AppConfig.ready): a process with an unsafe or
    unusable SMS set-up does not start, as for a missing SECRET_KEY. gunicorn runs no
    system checks, but its workers load the app, so they die at boot."""
    errors = sms_configuration_errors()
    if errors:
        raise ImproperlyConfigured(" ".join(errors) + " (see .env.example)")


@register("security", deploy=False)
def demo_backend_needs_demo_mode(**kwargs: object) -> list[Error]:
    """The same rule as a system check, for settings changed after start-up (tests)."""
    return [
        Error(message, hint="See .env.example, 'Sign-in codes'.", id="auth_flow.E001")
        for message in sms_configuration_errors()
    ]


def otp_limit_errors() -> list[str]:
    """The OTP_* limits below 1: a code that lives 0 s, 0 attempts, 0 codes an hour
    would lock every member out (or, read as "no limit", let anyone through)."""
    return [
        f"{name} must be a positive whole number (it is {getattr(settings, name)})."
        for name in OTP_LIMITS
        if getattr(settings, name) < 1
    ]


def otp_limits_refuse() -> None:
    """Called while the app loads (AppConfig.ready), as sms_configuration_refuse: a
    process whose limits are not all at least 1 does not serve (gunicorn runs no
    system checks; its workers die at boot)."""
    errors = otp_limit_errors()
    if errors:
        raise ImproperlyConfigured(" ".join(errors) + " (see .env.example)")


@register()
def otp_limits_are_positive(**kwargs: object) -> list[Error]:
    """The same rule as a system check, for settings changed after start-up (tests)."""
    return [Error(message, id="auth_flow.E002") for message in otp_limit_errors()]
