"""Webhooks: the key their signing secrets are encrypted under, retries, retention, SSRF.

WEBHOOK_SECRET_KEY is a key of its own (not SECRET_KEY): signing secrets must be
usable to sign, so they are encrypted, not hashed. One or more comma-separated
random strings of at least 32 characters; the first encrypts, every one decrypts
(rotate by putting a new key first, then `manage.py webhook_endpoint rekey`).
"""

from django.core.exceptions import ImproperlyConfigured

from site_config.settings.environment import DEBUG, env

_DEVELOPMENT_WEBHOOK_KEY = "development-only-webhook-secret-key-never-use-in-production"
WEBHOOK_KEY_MIN_LENGTH = 32


def _webhook_secret_keys() -> list[str]:
    keys = [key.strip() for key in env.list("WEBHOOK_SECRET_KEY", default=[]) if key.strip()]
    if not keys:
        # Production without a key serves everything but webhooks: adding an endpoint
        # says the key is missing, and with endpoints saved `migrate` (every deploy's
        # first step) refuses to run (webhooks/checks.py).
        return [_DEVELOPMENT_WEBHOOK_KEY] if DEBUG else []
    short = [index for index, key in enumerate(keys, 1) if len(key) < WEBHOOK_KEY_MIN_LENGTH]
    if short:
        raise ImproperlyConfigured(
            f"WEBHOOK_SECRET_KEY: key {short[0]} is shorter than {WEBHOOK_KEY_MIN_LENGTH} "
            "characters; use a random one (secrets.token_urlsafe(32))."
        )
    if not DEBUG and _DEVELOPMENT_WEBHOOK_KEY in keys:
        raise ImproperlyConfigured(
            "WEBHOOK_SECRET_KEY is the development key; production needs its own."
        )
    if env.str("SECRET_KEY", default="") in keys:
        raise ImproperlyConfigured("WEBHOOK_SECRET_KEY must not be SECRET_KEY: a key of its own.")
    return keys


def _retry_schedule() -> list[int]:
    raw = env.str("WEBHOOK_RETRY_SCHEDULE", default="5,300,1800,7200,18000,36000,36000")
    try:
        schedule = [int(part) for part in raw.replace(" ", "").split(",") if part]
    except ValueError:
        schedule = [-1]
    if any(delay < 0 for delay in schedule):
        raise ImproperlyConfigured(
            "WEBHOOK_RETRY_SCHEDULE must be seconds, comma-separated (e.g. 5,300,1800)."
        )
    return schedule


WEBHOOK_SECRET_KEY: list[str] = _webhook_secret_keys()
# Seconds between a failed try and the next; after the last one the message is failed.
WEBHOOK_RETRY_SCHEDULE: list[int] = _retry_schedule()
# An endpoint failing for this long (no 2xx since its first failure) is disabled.
WEBHOOK_DISABLE_AFTER_DAYS = env.int("WEBHOOK_DISABLE_AFTER_DAYS", default=5)
# Messages and their delivery log are kept this long, then purged by a periodic job.
WEBHOOK_LOG_DAYS = env.int("WEBHOOK_LOG_DAYS", default=30)
# Endpoints on loopback, private, link-local or reserved addresses are refused
# (when saved and when sent) unless this is on: local use and tests only.
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
