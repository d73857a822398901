"""A rate limit per operator API key, exact across processes and machines.

Fixed windows (`OPERATOR_API_RATE` requests a minute, default 120), one row per
key and window taken with one upsert, as the SMS budgets are (the count lives in
the database every process shares, never in process memory).
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from operator_api.models import KeyRequestWindow

WINDOW = timedelta(minutes=1)
TABLE = KeyRequestWindow._meta.db_table


class ApiKeyRateThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: APIView) -> bool:
        api_key = request.auth
        if api_key is None:  # authentication answered first; nothing to count
            return True
        now = timezone.now()
        start = now.replace(second=0, microsecond=0)
        self._wait = (start + WINDOW - now).total_seconds()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (key_prefix, window_start, requests) VALUES (%s, %s, 1) "  # noqa: S608 - our table name
                f"ON CONFLICT (key_prefix, window_start) DO UPDATE "
                f"SET requests = {TABLE}.requests + 1 WHERE {TABLE}.requests < %s "
                "RETURNING requests",
                [api_key.prefix, start, settings.OPERATOR_API_RATE],
            )
            return cursor.fetchone() is not None

    def wait(self) -> float:
        return max(1.0, self._wait)


def key_windows_purge(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Windows past their minute are only history: keep an hour of them."""
    cutoff = timezone.now() - older_than
    return KeyRequestWindow.objects.filter(window_start__lt=cutoff).delete()[0]
