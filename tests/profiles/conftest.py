"""Members signed in to the web face, and the shared cache the referrals poll reads."""

import pytest
from django.test import Client

from profiles.models import User


@pytest.fixture
def member(make_member) -> User:
    return make_member()


@pytest.fixture
def signed_in(client: Client, member: User) -> Client:
    client.force_login(member)
    return client


@pytest.fixture
def shared_cache(settings):
    """As with REDIS_URL: a cache every process shares (here one process's memory)."""
    settings.REDIS_URL = "redis://in-memory-for-this-test"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "web"}
    }
    settings.SESSION_ENGINE = "core.sessions"  # as settings choose with REDIS_URL
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
