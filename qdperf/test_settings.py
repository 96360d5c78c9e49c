"""Settings for the test suite: the real settings, plus test-only conveniences.

DATABASE_URL still decides the database (PostgreSQL in CI); Celery runs eagerly unless a test
starts a real worker itself.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-qdperf-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from qdperf.settings import *  # noqa: E402,F403
from qdperf.settings import INSTALLED_APPS, STORAGES  # noqa: E402

# A tiny model used only to exercise the shared scoping and workflow machinery.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Serve static files straight from the app folders (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
