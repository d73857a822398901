"""Rendering what other rooms add to the referrals list (profiles/extras.py), without
knowing whose it is: `{% profile_extra item %}` renders its template with its context,
`{% referral_note extras member as note %}` finds a row's note, `{% extra_attrs note %}`
puts the note's data-* attributes on the row element."""

from typing import Any

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from profiles.extras import Extra, ProfileExtras
from profiles.selectors import Referral

register = template.Library()


@register.simple_tag(takes_context=True)
def profile_extra(context: template.Context, item: Extra) -> SafeString:
    # As {% include %} does: the page's context (request, language, user) plus the item's.
    found = context.template.engine.get_template(item.template)
    with context.push(**item.context):
        return found.render(context)


@register.simple_tag
def referral_note(extras: ProfileExtras | None, member: Referral) -> Extra | None:
    return extras.notes.get(member.e164) if extras else None


@register.simple_tag
def extra_attrs(note: Extra | None) -> SafeString:
    if not note:
        return SafeString("")
    # Only data-* names: the row's own attributes (id, class, htmx) stay profiles'.
    attrs: Any = ((name, value) for name, value in note.attrs.items() if name.startswith("data-"))
    return format_html_join("", ' {}="{}"', attrs)
