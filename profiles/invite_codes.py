"""Invite codes as strings: what a member typed, and whether it can be a code at all.

Pure functions, no database: the forms, the share link and the selectors use them.
"""

from profiles.models import INVITE_CODE_ALPHABET, INVITE_CODE_LENGTH

# Cyrillic capitals that look like Latin ones: a code read aloud or typed on a
# Russian keyboard layout ("АВС234") means the Latin code it looks like.
_CYRILLIC_LOOK_ALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")


def invite_code_normalize(code: str) -> str:
    return code.strip().upper().translate(_CYRILLIC_LOOK_ALIKES)


def invite_code_is_well_formed(code: str) -> bool:
    return len(code) == INVITE_CODE_LENGTH and all(c in INVITE_CODE_ALPHABET for c in code)
