"""The keyed hash a referral grant is known by: the referral's phone, HMAC'd.

Kept on the grant when the account goes, so a phone that deleted its account
and joined again never earns its inviter twice; the phone itself is not kept.
"""

from django.utils.crypto import salted_hmac

SALT = "rewards.referral-phone"


def phone_key(phone: object) -> str:
    """HMAC-SHA256 of the E.164 phone under SECRET_KEY (64 hex digits)."""
    return salted_hmac(SALT, str(phone), algorithm="sha256").hexdigest()
