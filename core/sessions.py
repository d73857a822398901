"""Sessions read from the shared cache, but never against the database's word.

Django's `cached_db` sessions read the cache first and write through to the
database. A sign-out deletes both, but a cache that could not be reached at that
moment (a Redis hang: the calls time out, core/cache.py answers a miss) keeps
the old entry, and worse, the commands queued while Redis was stopped run when
it resumes, in any order: the entry the sign-out request itself cached on its
way in comes back after the delete. A Redis restored from a snapshot brings old
entries back too. So the cache cannot be the judge of whether a session exists:

- Pages: a session found in the cache counts only if the database still has
  it (one indexed lookup, on requests that already read the member's row). The
  database is where a sign-out always lands, so the next request after a
  sign-out is signed out, whatever the cache holds. A stale entry is evicted.
- The referrals poll's 204 (profiles/middleware.py), which must stay free of
  the database: every deleted session leaves a tombstone in the cache for as
  long as its cookie could live, and the poll trusts a cached session only
  without one. The tombstone is a key of its own, so it wins whatever order
  the queued commands run in (a tombstone is never deleted, and a resurrected
  entry does not remove it). What a poll answered from a stale entry could tell
  anyway is only "nothing changed", and with no body.
"""

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches
from django.utils import timezone

ENDED_PREFIX = "core.sessions.ended:"


def session_ended_key(session_key: str) -> str:
    return ENDED_PREFIX + session_key


class SessionStore(cached_db.SessionStore):
    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - as Django's: an invalid cache key is a miss
            data = None
        if data is None:
            return super().load()
        if self.model.objects.filter(
            session_key=self.session_key, expire_date__gt=timezone.now()
        ).exists():
            return data
        # Signed out (or expired) while the cache was unreachable: not a session.
        self._cache.delete(self.cache_key)
        self._session_key = None
        return {}

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        super().delete(session_key)
        if key:
            self._cache.set(session_ended_key(key), True, settings.SESSION_COOKIE_AGE)


def session_cached(session_key: str) -> dict[str, Any] | None:
    """The session's data as the shared cache holds it, if no tombstone says it ended.

    No database: for answers that may come from the cache alone (the poll's 204).
    """
    store = SessionStore(session_key)
    if store.session_key is None:  # not a well-formed key
        return None
    ended = session_ended_key(store.session_key)
    found = caches[settings.SESSION_CACHE_ALIAS].get_many([store.cache_key, ended])
    if ended in found:
        return None
    return found.get(store.cache_key)
