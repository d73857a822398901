"""The project itself: hosts, apps, middleware, templates, languages, static files, logs."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from site_config.settings.environment import BASE_DIR, DEBUG, env, required_in_production

SECRET_KEY: str = required_in_production(  # type: ignore[assignment]
    "SECRET_KEY", "development-only-secret-key-never-use-in-production-0123456789"
)
# Render names a web service's public host only when it runs (render.yaml), so a
# blueprint cannot list it: set, it is allowed, trusted for CSRF over HTTPS, and
# stands in for ALLOWED_HOSTS. Render sets it; nothing else should.
RENDER_EXTERNAL_HOSTNAME = env.str("RENDER_EXTERNAL_HOSTNAME", default="")
ALLOWED_HOSTS: list[str] = (
    [*env.list("ALLOWED_HOSTS", default=[]), RENDER_EXTERNAL_HOSTNAME]
    if RENDER_EXTERNAL_HOSTNAME
    else required_in_production(  # type: ignore[assignment]
        "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"]
    )
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[]) + (
    [f"https://{RENDER_EXTERNAL_HOSTNAME}"] if RENDER_EXTERNAL_HOSTNAME else []
)

INSTALLED_APPS = [
    "core.apps.StaffAdminConfig",
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
    # The background queue (events/queue.py), before the apps that define jobs.
    "procrastinate.contrib.django",
    "events",
    "profiles",
    "auth_flow",
    "fraud",
    "rewards",
    "staff_console",
    "rest_framework_api_key",
    "operator_api",
    "webhooks",
    # Failed staff password sign-ins, counted in the database (security.py).
    "axes",
]

MIDDLEWARE = [
    # /metrics for the scraper, and every request counted and timed (core/metrics.py).
    "core.metrics.MetricsMiddleware",
    "core.health.HealthCheckMiddleware",
    # A NUL byte in a query or form value: 400 before any view (PostgreSQL refuses NUL).
    "core.input.NulInputMiddleware",
    # An unchanged referrals poll, from the shared cache (a no-op without REDIS_URL).
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
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its page
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
                "core.context_processors.support",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "profiles.User"

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
        "events": {"level": LOG_LEVEL},
        "procrastinate": {"level": "WARNING"},
        "webhooks": {"level": LOG_LEVEL},
        "fraud": {"level": LOG_LEVEL},
        "rewards": {"level": LOG_LEVEL},
    },
}
