"""procrastinate's tables exist on PostgreSQL only: on SQLite (QUEUE_INLINE) its
migrations are recorded but not applied, since nothing reads them there."""

from typing import Any

from django.db import connections


class QueueTablesRouter:
    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if app_label == "procrastinate" and connections[db].vendor != "postgresql":
            return False
        return None
