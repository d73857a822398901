"""Device tokens (OWASP "device cookies"): this client signed in to this phone before.

A token is signed (django.core.signing, its own salt) and names the phone and a
random device id, so each signed-in browser or app is a device of its own. A
code request that carries a valid one for its phone counts against that
device's budget instead of the budget every stranger shares, so strangers
cannot lock the member out. Only a right code mints one.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing

SALT = "auth_flow.device"
MAX_AGE = timedelta(days=365)
COOKIE = "device"
# Far longer than any token this module signs; anything bigger is not worth unsigning.
MAX_LENGTH = 512


def device_token_issue(*, phone: str, key: str | None = None) -> str:
    """A new device token for `phone` (`key`: another deployment's SECRET_KEY, for the bench)."""
    payload = {"phone": phone, "device": secrets.token_urlsafe(16)}
    return signing.dumps(payload, key=key, salt=SALT, compress=False)


def device_token_verify(*, token: str, phone: str) -> str:
    """The keyed hash of the token's device if it is valid for `phone`, else "".

    Invalid, expired or another phone's tokens are not errors: their holder is
    simply a stranger.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_LENGTH:
        return ""
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except (signing.BadSignature, ValueError):
        return ""
    if not isinstance(payload, dict) or payload.get("phone") != phone:
        return ""
    device = payload.get("device")
    if not isinstance(device, str) or not device:
        return ""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"device:{device}".encode(), hashlib.sha256
    ).hexdigest()
