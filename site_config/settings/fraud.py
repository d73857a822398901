"""Fraud flags: what the fraud rules count as suspicious, and how long IPs are kept."""

from site_config.settings.environment import env

# Fraud flags (the fraud app), reviewed on the operator's console (/staff/flags/).
FRAUD_SAME_IP_HOURS = env.int("FRAUD_SAME_IP_HOURS", default=72)
FRAUD_BURST_COUNT = env.int("FRAUD_BURST_COUNT", default=5)
FRAUD_BURST_MINUTES = env.int("FRAUD_BURST_MINUTES", default=10)
FRAUD_FAST_ACTIVATION_SECONDS = env.int("FRAUD_FAST_ACTIVATION_SECONDS", default=30)
FRAUD_SEQUENTIAL_COUNT = env.int("FRAUD_SEQUENTIAL_COUNT", default=3)
# Sign-up and activation IPs are personal data: kept this long, then nulled
# by `manage.py purge_member_ips`.
FRAUD_IP_RETENTION_DAYS = env.int("FRAUD_IP_RETENTION_DAYS", default=90)
