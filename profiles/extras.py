"""What rooms above profiles add to a member's referrals list (profiles.signals.profile_extras).

Profiles renders them without knowing whose they are: a panel is a template (a
page's partial) and its context, shown above the list; a note goes on the row of
the referral whose E.164 phone it is keyed by, and its `attrs` (data-* attributes)
on the row element itself. Profiles owns the elements that polls swap (the panels'
box, the rows), so the templates never need to know about htmx.
"""

from dataclasses import dataclass, field
from typing import Any

from profiles.models import User


@dataclass(frozen=True)
class Extra:
    template: str
    context: dict[str, Any]
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class ProfileExtras:
    panels: list[Extra] = field(default_factory=list)
    notes: dict[str, Extra] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.panels or self.notes)


def profile_extras_collect(*, member: User, phones: list[str]) -> ProfileExtras:
    """Ask every connected room for its panel and row notes (none connected: nothing)."""
    from profiles.signals import profile_extras

    collected = ProfileExtras()
    for _receiver, extras in profile_extras.send(sender=User, member=member, phones=phones):
        if isinstance(extras, ProfileExtras):
            collected.panels += extras.panels
            collected.notes.update(extras.notes)
    return collected
