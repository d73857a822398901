"""QR codes drawn on the server, so sharing from phone to phone needs no JavaScript."""

import segno
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def qr_svg(data: str, title: str = "") -> SafeString:
    """`data` as an inline SVG QR code, sized by CSS (`.qr`).

    Safe to mark: segno XML-escapes the title, and `data` only becomes path geometry.
    """
    svg = segno.make(str(data), error="m").svg_inline(
        svgclass="qr", lineclass=None, omitsize=True, title=title or None, dark="#111827"
    )
    return mark_safe(svg)  # noqa: S308 - see the docstring
