"""The fraud rules: pure functions from recorded facts to suspicions with evidence.

They know nothing of the database; `services.flags_refresh` feeds them the rows
of new activations and stores what they find.
"""

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

SAME_IP = "same_ip"
BURST = "burst"
FAST_ACTIVATION = "fast_activation"
SEQUENTIAL_PHONES = "sequential_phones"
# A popular inviter's burst or number block can run to thousands of rows: a flag
# keeps the first ones, enough to judge it, so that it stays cheap to list.
EVIDENCE_MAX = 100


@dataclass(frozen=True)
class Member:
    """The facts the rules read about one member."""

    id: int
    phone: str
    invite_code: str
    date_joined: datetime
    activated_at: datetime | None = None
    referred_by_id: int | None = None
    signup_ip: str | None = None
    activation_ip: str | None = None

    def ip_events(self) -> list[tuple[str, str, datetime]]:
        """(event, IP, when) for each IP recorded about this member."""
        events = []
        if self.signup_ip:
            events.append(("signup", self.signup_ip, self.date_joined))
        if self.activation_ip and self.activated_at:
            events.append(("activation", self.activation_ip, self.activated_at))
        return events


@dataclass(frozen=True)
class Suspicion:
    reason: str
    inviter_id: int
    subject_id: int | None
    evidence: list[dict[str, Any]]

    def __post_init__(self) -> None:
        # A copy: the caller's list is theirs (a frozen dataclass sets through object).
        object.__setattr__(self, "evidence", list(self.evidence[:EVIDENCE_MAX]))


def network(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The block one household or one mobile carrier's customer holds: IPv4 /24, IPv6 /64."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return ipaddress.ip_network(f"{ip}/{prefix}", strict=False)


def _row(member: Member, event: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "member": member.id,
        "phone": member.phone,
        "event": event,
        "at": at.isoformat(),
        **extra,
    }


def same_ip(referral: Member, inviter: Member, *, window: timedelta) -> Suspicion | None:
    """The referral signed up or activated from the inviter's network within `window`
    of the inviter signing up or activating from it."""
    evidence = []
    for event, ip, at in referral.ip_events():
        for inviter_event, inviter_ip, inviter_at in inviter.ip_events():
            if network(ip) == network(inviter_ip) and abs(at - inviter_at) <= window:
                evidence.append(_row(referral, event, at, ip=ip))
                evidence.append(_row(inviter, inviter_event, inviter_at, ip=inviter_ip))
    if not evidence:
        return None
    return Suspicion(SAME_IP, inviter.id, referral.id, _unique(evidence))


def fast_activation(referral: Member, *, within: timedelta) -> Suspicion | None:
    """The referral entered the code within `within` of their first sign-in (a script)."""
    if referral.activated_at is None or referral.referred_by_id is None:
        return None
    if referral.activated_at - referral.date_joined > within:
        return None
    evidence = [
        _row(referral, "signup", referral.date_joined),
        _row(referral, "activation", referral.activated_at),
    ]
    return Suspicion(FAST_ACTIVATION, referral.referred_by_id, referral.id, evidence)


def bursts(referrals: Iterable[Member], *, count: int, within: timedelta) -> list[Suspicion]:
    """At least `count` activations into one inviter within `within`, per inviter:
    every activation that lies in such a window is evidence."""
    by_inviter: dict[int, list[Member]] = defaultdict(list)
    for member in referrals:
        if member.referred_by_id is not None and member.activated_at is not None:
            by_inviter[member.referred_by_id].append(member)
    found = []
    for inviter_id, members in by_inviter.items():
        members.sort(key=lambda m: (m.activated_at, m.id))
        flagged: dict[int, Member] = {}
        start = 0
        for end, member in enumerate(members):
            while member.activated_at - members[start].activated_at > within:  # type: ignore[operator]
                start += 1
            if end - start + 1 >= count:
                for inside in members[start : end + 1]:
                    flagged[inside.id] = inside
        if flagged:
            evidence = [
                _row(m, "activation", m.activated_at)  # type: ignore[arg-type]
                for m in sorted(flagged.values(), key=lambda m: (m.activated_at, m.id))
            ]
            found.append(Suspicion(BURST, inviter_id, None, evidence))
    return found


def sequential_phones(referrals: Iterable[Member], *, count: int) -> list[Suspicion]:
    """At least `count` of one inviter's referrals whose numbers differ only in the
    last two digits (bought or generated in a block)."""
    blocks: dict[tuple[int, str], list[Member]] = defaultdict(list)
    for member in referrals:
        if member.referred_by_id is not None and len(member.phone) > 2:
            blocks[(member.referred_by_id, member.phone[:-2])].append(member)
    by_inviter: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for (inviter_id, _prefix), members in sorted(blocks.items()):
        if len(members) >= count:
            for m in sorted(members, key=lambda m: m.phone):
                by_inviter[inviter_id].append(
                    _row(m, "activation", m.activated_at or m.date_joined)
                )
    return [
        Suspicion(SEQUENTIAL_PHONES, inviter_id, None, evidence)
        for inviter_id, evidence in by_inviter.items()
    ]


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = set()
    unique = []
    for row in rows:
        key = tuple(sorted(row.items()))
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def evidence_merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Old rows first, then the new ones not already there, up to EVIDENCE_MAX."""
    return _unique([*old, *new])[:EVIDENCE_MAX]
