"""QR codes drawn on the server, so sharing from phone to phone needs no JavaScript."""

from functools import lru_cache

import segno
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def qr_svg(data: str, title: str = "") -> SafeString:
    """`data` as an inline SVG QR code, sized by CSS (`.qr`).

    Safe to mark: segno XML-escapes the title, and `data` only becomes path geometry.
    """
    return mark_safe(_svg(str(data), str(title)))  # noqa: S308 - see the docstring


@lru_cache(maxsize=2048)
def _svg(data: str, title: str) -> str:
    # Encoding costs more than the rest of the profile page; a member's link never changes.
    return segno.make(data, error="m").svg_inline(
        svgclass="qr", lineclass=None, omitsize=True, title=title or None, dark="#111827"
    )
