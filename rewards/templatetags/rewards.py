"""`{{ amount|reward_amount:unit }}`: an amount as members read it, "1,500 points" or
"1 500 баллов" (the unit's plural in the page's language), "200 RUB" for a currency."""

from django import template
from django.utils.formats import number_format
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def reward_amount(amount: int, unit: str) -> str:
    shown = number_format(amount, force_grouping=True)
    if unit == "points":
        return ngettext("%(amount)s point", "%(amount)s points", amount) % {"amount": shown}
    return f"{shown}\N{NO-BREAK SPACE}{unit}"
