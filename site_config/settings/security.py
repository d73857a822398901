"""Who may sign in how, throttles on staff passwords, cookies, headers, proxies."""

from datetime import timedelta

from django.utils.csp import CSP

from site_config.settings.environment import DEBUG, env

# The first authenticates passwords (staff); members sign in by phone code,
# recorded with ModelBackend. Staff pages require the first (core/staff.py).
AUTHENTICATION_BACKENDS = [
    "core.backends.StaffPasswordBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Staff password throttle (django-axes).
# Failed password sign-ins are counted in the database (shared by every process)
# per account and, separately, per client IP; at the limit both the account and
# the address wait out the cool-off. Axes' backend comes first and only refuses:
# StaffPasswordBackend still signs the operator in (core/staff_throttle.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
AXES_HANDLER = "core.staff_throttle.StaffAxesHandler"
AXES_FAILURE_LIMIT = env.int("STAFF_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("STAFF_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's field (the phone)
AXES_USERNAME_CALLABLE = "core.staff_throttle.username"
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"  # TRUSTED_PROXY_COUNT, as the OTP limits
AXES_LOCKOUT_CALLABLE = "core.staff_throttle.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout do not push it further: the page's wait stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True
LOGIN_URL = "/"
# A failed CSRF check: a page in the site's layout (JSON under /api/).
CSRF_FAILURE_VIEW = "core.error_pages.csrf_failure"
LOGIN_REDIRECT_URL = "/profile/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Security headers. SECURE_SSL_REDIRECT may be switched off to serve plain
# HTTP behind a TLS-terminating proxy or for a local benchmark.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# The language cookie, as safe as the session's.
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True  # only the server reads it (LocaleMiddleware)
LANGUAGE_COOKIE_SAMESITE = "Lax"
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
