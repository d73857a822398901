"""Prometheus metrics (core/metrics.py): who may scrape /metrics."""

from django.core.exceptions import ImproperlyConfigured

from site_config.settings.environment import DEBUG, env

# The bearer token a scraper sends (`Authorization: Bearer <token>`). Unset, /metrics
# answers 404. In production it must be long enough not to be guessed.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_TOKEN_MIN_LENGTH = 24
if METRICS_TOKEN and not DEBUG and len(METRICS_TOKEN) < METRICS_TOKEN_MIN_LENGTH:
    raise ImproperlyConfigured(
        f"METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} characters when DEBUG "
        'is off: python -c "import secrets; print(secrets.token_urlsafe(32))"'
    )
