"""Values every page template may use."""

from django.conf import settings
from django.http import HttpRequest


def support(request: HttpRequest) -> dict[str, str]:
    """`support_url`: where "contact support" links to (SUPPORT_URL, else mailto:SUPPORT_EMAIL)."""
    return {"support_url": support_url()}


def support_url() -> str:
    if settings.SUPPORT_URL:
        return settings.SUPPORT_URL
    return f"mailto:{settings.SUPPORT_EMAIL}" if settings.SUPPORT_EMAIL else ""
