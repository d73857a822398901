"""`{{ phone|phone_display }}`: a phone as people read it (core/phones.py)."""

from django import template

from core.phones import phone_display as _phone_display

register = template.Library()


@register.filter
def phone_display(value: object) -> str:
    return _phone_display(value)
