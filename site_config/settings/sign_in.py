"""Phones, one-time codes, SMS providers and the toll-fraud guards."""

from site_config.settings.environment import DEBUG, env

# Phone numbers and sign-in codes.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="RU")
PHONENUMBER_DEFAULT_REGION = PHONE_DEFAULT_REGION
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"

OTP_TTL = env.int("OTP_TTL", default=300)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=3)
OTP_RESEND_COOLDOWN = env.int("OTP_RESEND_COOLDOWN", default=60)
OTP_PHONE_HOURLY = env.int("OTP_PHONE_HOURLY", default=5)
OTP_PHONE_DAILY = env.int("OTP_PHONE_DAILY", default=10)
OTP_IP_HOURLY = env.int("OTP_IP_HOURLY", default=30)
OTP_SEND_DELAY: list[float] = env.list("OTP_SEND_DELAY", cast=float, default=[1.0, 2.0])
# The host of the SMS's last line `@<host> #<code>` (WebOTP / iOS autofill offer the
# code on that site only). Empty: the first of ALLOWED_HOSTS that is a name.
OTP_ORIGIN_HOST = env.str("OTP_ORIGIN_HOST", default="")

# One backend or a fallback chain, comma-separated (auth_flow/sms/__init__.py).
SMS_BACKEND = env.str("SMS_BACKEND", default="demo" if DEBUG else "console")
DEMO_MODE = env.bool("DEMO_MODE", default=False)
# A real send: a wall deadline in seconds for the whole send (every provider of the
# chain, one retry included: auth_flow/sms/deadline.py); the circuit breaker opens
# after this many failures in a row and lets a trial through after the cool-off.
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=5.0)
SMS_BREAKER_FAILURES = env.int("SMS_BREAKER_FAILURES", default=5)
SMS_BREAKER_COOLOFF = env.float("SMS_BREAKER_COOLOFF", default=30.0)
SMSRU_API_ID = env.str("SMSRU_API_ID", default="")
SMSRU_BASE_URL = env.str("SMSRU_BASE_URL", default="https://sms.ru")
SMSRU_SENDER = env.str("SMSRU_SENDER", default="")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# Empty: the SDK's own https://api.twilio.com (tests point it at a local fake).
TWILIO_BASE_URL = env.str("TWILIO_BASE_URL", default="")
# The public URL of /webhooks/twilio/status/ as Twilio calls it (behind a proxy the
# app cannot see it): sent with each message and used to check the signature.
TWILIO_STATUS_CALLBACK_URL = env.str("TWILIO_STATUS_CALLBACK_URL", default="")

# Toll-fraud guards (auth_flow/sms/guards.py, budgets.py).
OTP_NUMBER_TYPES: list[str] = env.list(
    "OTP_NUMBER_TYPES", default=["MOBILE", "FIXED_LINE_OR_MOBILE"]
)
OTP_ALLOWED_REGIONS: list[str] = env.list("OTP_ALLOWED_REGIONS", default=[])
# Codes sent per clock hour (auth_flow/sms/budgets.py): everyone together (the worst
# bill); of that, the last OTP_DEVICE_HOURLY only for requests with a valid device
# token; strangers per country calling code and per range (the first
# OTP_PREFIX_DIGITS digits of the E.164 number, country code included).
OTP_GLOBAL_HOURLY = env.int("OTP_GLOBAL_HOURLY", default=1000)
OTP_DEVICE_HOURLY = env.int("OTP_DEVICE_HOURLY", default=200)
OTP_REGION_HOURLY = env.int("OTP_REGION_HOURLY", default=200)
OTP_PREFIX_HOURLY = env.int("OTP_PREFIX_HOURLY", default=20)
OTP_PREFIX_DIGITS = env.int("OTP_PREFIX_DIGITS", default=6)
# Rows the global budget is kept in (each with its share of the limits): every code
# request of the cluster takes from it, and one row would serialise them all.
OTP_GLOBAL_SHARDS = env.int("OTP_GLOBAL_SHARDS", default=8)
# E.164 prefixes no code goes to: ranges billed as international inside another
# country's code, and satellite / international networks (auth_flow/sms/guards.py).
OTP_BLOCKED_PREFIXES: list[str] = env.list(
    "OTP_BLOCKED_PREFIXES",
    default=["+7840", "+7940", "+7850", "+7998", "+870", "+881", "+882", "+883", "+979"],
)

# Telegram Gateway (SMS_BACKEND=telegram,...): codes by Telegram, about $0.01 each and
# refunded when undelivered within the code's lifetime (auth_flow/sms/telegram.py).
TELEGRAM_GATEWAY_TOKEN = env.str("TELEGRAM_GATEWAY_TOKEN", default="")
# Empty: Telegram's own https://gatewayapi.telegram.org (tests point it at a local fake).
TELEGRAM_GATEWAY_BASE_URL = env.str("TELEGRAM_GATEWAY_BASE_URL", default="")
# The public URL of /webhooks/telegram/status/ as the Gateway reaches it; empty: no reports.
TELEGRAM_GATEWAY_CALLBACK_URL = env.str("TELEGRAM_GATEWAY_CALLBACK_URL", default="")
