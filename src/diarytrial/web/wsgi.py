"""WSGI entry point, e.g. ``gunicorn diarytrial.web.wsgi``."""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diarytrial.web.settings")

application = get_wsgi_application()

# What is loaded by now (Django, the apps, the protocol schema) lives as long as the process.
# Frozen, the garbage collector no longer walks it on each full collection: a request that
# builds many objects (the dashboard of 10,000 participants) is no longer paused for tens of
# milliseconds now and then, and forked workers share these pages (Python's gc.freeze docs).
gc.freeze()
