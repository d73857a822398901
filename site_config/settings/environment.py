"""The environment every settings module reads, and the rule for production secrets.

Every value comes from an environment variable of the same name (a `.env`
file may supply them; the real environment wins). Development defaults are
safe to run on a laptop; with DEBUG off the production secrets are required.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)


def required_in_production(name: str, development_default: object) -> object:
    # Empty counts as missing: compose's `${SECRET_KEY}` passes "" when it is unset.
    if env.str(name, default=""):
        return env.list(name) if isinstance(development_default, list) else env.str(name)
    if DEBUG:
        return development_default
    raise ImproperlyConfigured(
        f"{name} must be set in the environment when DEBUG is off (see .env.example)."
    )
