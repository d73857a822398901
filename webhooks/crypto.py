"""Signing secrets: made here, stored encrypted under WEBHOOK_SECRET_KEY.

The secrets must be usable to sign, so they are encrypted (Fernet: AES-128-CBC
and HMAC-SHA256, from `cryptography`), not hashed, and under a key of their own,
not SECRET_KEY. Each configured key is stretched to a Fernet key with HKDF;
MultiFernet encrypts with the first and decrypts with any, so the key rotates
without downtime (`manage.py webhook_endpoint rekey` moves every secret to the
first key).
"""

import base64
import secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format, not a secret
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 random bytes, base64 after the prefix


class SecretUnreadable(Exception):
    """A stored secret decrypts under none of the configured keys."""


class WebhooksNotConfigured(DomainError):
    code = "webhooks_not_configured"
    status = 503
    field = None


NOT_CONFIGURED = _(
    "Webhooks need WEBHOOK_SECRET_KEY in the environment (it encrypts the signing "
    "secrets; see .env.example)."
)


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _fernet_key(key: str) -> bytes:
    stretched = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"referral-webhook-secrets"
    ).derive(key.encode())
    return base64.urlsafe_b64encode(stretched)


@cache
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def cipher() -> MultiFernet:
    if not settings.WEBHOOK_SECRET_KEY:
        raise WebhooksNotConfigured(NOT_CONFIGURED)
    return _cipher(tuple(settings.WEBHOOK_SECRET_KEY))


def secret_encrypt(secret: str) -> str:
    return cipher().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except WebhooksNotConfigured as error:
        raise SecretUnreadable(str(error.message)) from error
    except InvalidToken as error:
        raise SecretUnreadable(
            "A webhook signing secret decrypts under no WEBHOOK_SECRET_KEY: was the key "
            "replaced instead of rotated (new key first, old one kept after it)?"
        ) from error


def secret_reencrypt(token: str) -> str:
    """The same secret under the first (newest) key."""
    try:
        return cipher().rotate(token.encode()).decode()
    except WebhooksNotConfigured as error:
        raise SecretUnreadable(str(error.message)) from error
    except InvalidToken as error:
        raise SecretUnreadable("A webhook signing secret decrypts under no key.") from error
