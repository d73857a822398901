"""Settings for the referral service, read from the environment.

Every value comes from an environment variable of the same name (a `.env`
file may supply them; the real environment wins). Development defaults are
safe to run on a laptop; with DEBUG off the production secrets are required.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)


def _required_in_production(name: str, development_default: object) -> object:
    # Empty counts as missing: compose's `${SECRET_KEY}` passes "" when it is unset.
    if env.str(name, default=""):
        return env.list(name) if isinstance(development_default, list) else env.str(name)
    if DEBUG:
        return development_default
    raise ImproperlyConfigured(
        f"{name} must be set in the environment when DEBUG is off (see .env.example)."
    )


SECRET_KEY: str = _required_in_production(  # type: ignore[assignment]
    "SECRET_KEY", "development-only-secret-key-never-use-in-production-0123456789"
)
# Render names a web service's public host only when it runs (render.yaml), so a
# blueprint cannot list it: set, it is allowed, trusted for CSRF over HTTPS, and
# stands in for ALLOWED_HOSTS. Render sets it; nothing else should.
RENDER_EXTERNAL_HOSTNAME = env.str("RENDER_EXTERNAL_HOSTNAME", default="")
ALLOWED_HOSTS: list[str] = (
    [*env.list("ALLOWED_HOSTS", default=[]), RENDER_EXTERNAL_HOSTNAME]
    if RENDER_EXTERNAL_HOSTNAME
    else _required_in_production(  # type: ignore[assignment]
        "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"]
    )
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[]) + (
    [f"https://{RENDER_EXTERNAL_HOSTNAME}"] if RENDER_EXTERNAL_HOSTNAME else []
)

INSTALLED_APPS = [
    "site_config.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "phonenumber_field",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "profiles",
    "auth_flow",
    "staff_console",
]

MIDDLEWARE = [
    "site_config.health.HealthCheckMiddleware",
    # An unchanged referrals poll, from the shared cache (h12; a no-op without REDIS_URL).
    "profiles.middleware.ReferralsPollMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "site_config.urls"
WSGI_APPLICATION = "site_config.wsgi.application"
ASGI_APPLICATION = "site_config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL in production (DATABASE_URL); SQLite for a first `make run`.
# An empty DATABASE_URL (as `make run` passes) means "not set".
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10)
# --- h10ops: database outage -------------------------------------------------
# With the database unreachable every request must answer 503 within ~2 s
# (SPEC.md, "JSON API"): a request waits at most DB_POOL_TIMEOUT for a pooled
# connection, a new connection at most DB_CONNECT_TIMEOUT (libpq's minimum is 2).
# Under normal load a connection is free within milliseconds (short transactions).
DB_POOL_TIMEOUT = env.float("DB_POOL_TIMEOUT", default=2.0)
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=2)
# A pool timeout while the database answers means a burst holds every connection,
# not an outage: such a request waits this much longer (site_config/db_engine).
DB_POOL_BUSY_TIMEOUT = env.float("DB_POOL_BUSY_TIMEOUT", default=15.0)
# How long /healthz waits for a pooled connection before a probe connection of its
# own decides (site_config/health.py): short, so that a probe during a burst that
# holds the whole pool answers quickly, and 503 comes well within 1 s in an outage.
HEALTH_DB_TIMEOUT = env.float("HEALTH_DB_TIMEOUT", default=0.1)
# Retry-After of the 503 answers while the database is unreachable.
OUTAGE_RETRY_AFTER = env.int("OUTAGE_RETRY_AFTER", default=5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's pool (psycopg 3) keeps connections bounded per process while
    # many threads wait on the SMS gateway without holding one.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Django's backend, telling a busy pool from a dead database (site_config/db_engine).
    DATABASES["default"]["ENGINE"] = "site_config.db_engine"
    # The pool checks a connection before lending it: after a database restart its
    # idle connections are dead, and without the check the first requests after
    # recovery would still fail.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    options["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": DB_POOL_TIMEOUT,
        # psycopg's pool retries a lost connection with a doubling delay until this
        # many seconds have passed, then the next request starts afresh: without a
        # bound the delay reaches minutes and recovery lags the database by as much.
        "reconnect_timeout": float(OUTAGE_RETRY_AFTER),
    }
# --- end h10ops: database outage ---------------------------------------------
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "profiles.User"
# The first authenticates passwords (staff); members sign in by phone code,
# recorded with ModelBackend. Staff pages require the first (site_config/staff.py).
AUTHENTICATION_BACKENDS = [
    "site_config.backends.StaffPasswordBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# --- h10ops: staff password throttle (django-axes) -----------------------------
# Failed password sign-ins are counted in the database (shared by every process)
# per account and, separately, per client IP; at the limit both the account and
# the address wait out the cool-off. Axes' backend comes first and only refuses:
# StaffPasswordBackend still signs the operator in (site_config/staff_throttle.py).
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last: turns a lockout into its page
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
AXES_HANDLER = "site_config.staff_throttle.StaffAxesHandler"
AXES_FAILURE_LIMIT = env.int("STAFF_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("STAFF_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's field (the phone)
AXES_USERNAME_CALLABLE = "site_config.staff_throttle.username"
AXES_CLIENT_IP_CALLABLE = "site_config.http.client_ip"  # TRUSTED_PROXY_COUNT, as the OTP limits
AXES_LOCKOUT_CALLABLE = "site_config.staff_throttle.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout do not push it further: the page's wait stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True
# --- end h10ops: staff password throttle ----------------------------------------
LOGIN_URL = "/"
LOGIN_REDIRECT_URL = "/profile/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security headers. SECURE_SSL_REDIRECT may be switched off to serve plain
# HTTP behind a TLS-terminating proxy or for a local benchmark.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# --- h10ops: the language cookie, as safe as the session's -----------------------
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True  # only the server reads it (LocaleMiddleware)
LANGUAGE_COOKIE_SAMESITE = "Lax"
# --- end h10ops ------------------------------------------------------------------
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Number of reverse proxies in front of the app whose X-Forwarded-For entries
# are trusted; 0 means the socket peer address is the client.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT > 0:
    # Only a proxy may say the original request was HTTPS; a client reaching the
    # app directly could forge the header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Phone numbers and sign-in codes (SPEC.md, "Domain rules").
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

# One backend or a fallback chain, comma-separated (auth_flow/sms/__init__.py).
SMS_BACKEND = env.str("SMS_BACKEND", default="demo" if DEBUG else "console")
DEMO_MODE = env.bool("DEMO_MODE", default=False)
# A real send: total seconds per provider, one retry included; the circuit breaker
# opens after this many failures in a row and lets a trial through after the cool-off.
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
OTP_GLOBAL_HOURLY = env.int("OTP_GLOBAL_HOURLY", default=1000)
OTP_REGION_HOURLY = env.int("OTP_REGION_HOURLY", default=200)

# Fraud flags on the operator's console (/staff/, staff_console).
FRAUD_SAME_IP_HOURS = env.int("FRAUD_SAME_IP_HOURS", default=72)
FRAUD_BURST_COUNT = env.int("FRAUD_BURST_COUNT", default=5)
FRAUD_BURST_MINUTES = env.int("FRAUD_BURST_MINUTES", default=10)
FRAUD_FAST_ACTIVATION_SECONDS = env.int("FRAUD_FAST_ACTIVATION_SECONDS", default=30)
FRAUD_SEQUENTIAL_COUNT = env.int("FRAUD_SEQUENTIAL_COUNT", default=3)
# Sign-up and activation IPs are personal data: kept this long, then nulled
# by `manage.py purge_member_ips`.
FRAUD_IP_RETENTION_DAYS = env.int("FRAUD_IP_RETENTION_DAYS", default=90)

# --- Cache and sessions (h12) ---
# With REDIS_URL (e.g. redis://127.0.0.1:6379/0) every process shares one cache,
# Django's built-in Redis backend, and sessions are read from it (`cached_db`:
# written through to the database, so a Redis restart signs nobody out). Without
# it (`make run`, SQLite) sessions live in the database alone. Either way a
# sign-out deletes the session where every process looks, at once.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, keeping one redis client per pool (site_config/cache.py).
            "BACKEND": "site_config.cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            # Several deployments (or test runs) may share one Redis.
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="referral"),
            # A Redis that hangs must not hold requests: each call gives up quickly
            # and the cache answers a miss (site_config/cache.py).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
# A request that changes nothing writes no session (Django's default, said here on purpose).
SESSION_SAVE_EVERY_REQUEST = False
# --- end cache and sessions ---

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["site_config.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "site_config.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": SECRET_KEY,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Referral service API",
    "DESCRIPTION": "Phone sign-in with one-time codes, invite codes and referrals.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Request and response bodies get their own components (write-only vs read-only fields).
    "COMPONENT_SPLIT_REQUEST": True,
    "TAGS": [
        {"name": "auth", "description": "Sign in with a one-time SMS code; JWT access/refresh."},
        {"name": "profile", "description": "The signed-in member: invite codes and referrals."},
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # h10ops: every operation documents the 503 of a database outage.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "site_config.api.document_service_unavailable",
    ],
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "auth_flow": {"level": LOG_LEVEL},
        "profiles": {"level": LOG_LEVEL},
        "staff_console": {"level": LOG_LEVEL},
    },
}
