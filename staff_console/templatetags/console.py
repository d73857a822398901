from datetime import datetime

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def iso_datetime(value: str) -> str:
    """An ISO time from a flag's evidence, shown in the local zone and format."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value or ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    # Seconds matter here (a fast activation is 30 s), which SHORT_DATETIME_FORMAT drops.
    return formats.date_format(moment, "Y-m-d H:i:s")
