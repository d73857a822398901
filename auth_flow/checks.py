from django.conf import settings
from django.core.checks import Error, register


@register("security", deploy=False)
def demo_backend_needs_demo_mode(**kwargs: object) -> list[Error]:
    """The demo backend shows codes to whoever asks: never by accident in production."""
    if settings.SMS_BACKEND == "demo" and not settings.DEBUG and not settings.DEMO_MODE:
        return [
            Error(
                "SMS_BACKEND=demo shows sign-in codes on the page and in the API.",
                hint="Choose a real SMS backend, or set DEMO_MODE=1 for a public demo on purpose.",
                id="auth_flow.E001",
            )
        ]
    return []
