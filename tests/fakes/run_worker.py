"""`python -m tests.fakes.run_worker [queue_worker options]`: `manage.py queue_worker`,
after importing the modules named in TEST_WORKER_IMPORTS (comma-separated), so a
test can give the worker handlers or tasks of its own (tests/fakes/queue_handlers.py)."""

import importlib
import os
import sys

import django
from django.core.management import call_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")
django.setup()
for module in filter(None, os.environ.get("TEST_WORKER_IMPORTS", "").split(",")):
    importlib.import_module(module)
call_command("queue_worker", *sys.argv[1:])
