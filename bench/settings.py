"""Settings for benchmark servers only: production settings plus a bare view to compare with.

Never used in production: the bench scripts start servers with
DJANGO_SETTINGS_MODULE=bench.settings. BENCH_PERSISTENT=1 swaps the connection
pool for one persistent connection per process (the usual set-up for sync workers).
"""

import os

from site_config.settings import *  # noqa: F403
from site_config.settings import DATABASES

ROOT_URLCONF = "bench.urls"

if os.environ.get("BENCH_PERSISTENT") == "1":
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
    DATABASES["default"]["CONN_MAX_AGE"] = None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
