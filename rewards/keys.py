"""The keyed hash a referral grant is known by: the referral's phone, HMAC'd.

Kept on the grant when the account goes, so a phone that deleted its account
and joined again never earns its inviter twice; the phone itself is not kept.
"""

from django.utils.crypto import salted_hmac

SALT = "rewards.referral-phone"


def phone_key(phone: object) -> str:
    """HMAC-SHA256 of the E.164 phone under SECRET_KEY (64 hex digits).

    A PhoneNumber gives its E.164 form directly: its str() validates the number
    against phonenumbers' metadata first (~0.2 ms, every activation pays it:
    bench/rewards.py), and stored phones are valid E.164 already, so both spell
    the same string and the keys of grants already written stay the same.
    """
    text = getattr(phone, "as_e164", None) or str(phone)
    return salted_hmac(SALT, text, algorithm="sha256").hexdigest()
