"""What members are shown: where support is, how they see their referrals, lookup limits."""

from django.core.exceptions import ImproperlyConfigured

from site_config.settings.environment import env

# Linked wherever a page says "contact support" (the error pages, a suspended
# member's message). A URL wins over an address; neither set: no link is shown.
SUPPORT_URL = env.str("SUPPORT_URL", default="")
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="")
if SUPPORT_URL and not SUPPORT_URL.startswith(("https://", "http://", "mailto:", "/")):
    raise ImproperlyConfigured(
        "SUPPORT_URL must be an http(s):// or mailto: address or a path on this site."
    )

# How an inviter sees the numbers of the members who joined with their code, on
# the profile and in the API: `full` (+7 999 123-45-67) or `masked` (+7 999 ***-**-67).
REFERRAL_PHONES = env.str("REFERRAL_PHONES", default="full")
if REFERRAL_PHONES not in {"full", "masked"}:
    raise ImproperlyConfigured("REFERRAL_PHONES must be `full` or `masked`.")

# Invite-code lookups that name the code's owner (a share link `/?invite=CODE`,
# the profile's check while typing) per client address per hour, counted in the
# database across processes: nobody walks the codes to collect members' numbers.
INVITE_LOOKUP_IP_HOURLY = env.int("INVITE_LOOKUP_IP_HOURLY", default=60)
