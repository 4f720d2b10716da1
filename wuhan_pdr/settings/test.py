"""Settings for the test suite: the real PostgreSQL and Redis, a Redis database of its own."""

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
CACHES = {"default": {**CACHES["default"], "LOCATION": REDIS_URL}}  # noqa: F405
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default=REDIS_URL)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# A test-only app with a small model that drives the kernel's workflow helper.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.kernel_testapp"]  # noqa: F405

# Tests roll their transactions back, so "after commit" never comes and cached facet counts
# would outlive the data they counted; the cache has a test of its own that turns it on.
CATALOG_FACET_CACHE_SECONDS = 0

# WhiteNoise scans every static file each time a test client builds its handler (~170 ms);
# tests do not serve static files through it (the live server serves its own).
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405

# The demo seed (tested) reads a stand-in agency table in the test database; a test turns
# this off to check the refusal.
AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB = True

# API throttling is on; the suite's many requests from one address must not meet the
# production rates (tests/api/test_throttling.py sets low ones to see a 429).
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "anon": "100000/min",
        "user": "100000/min",
        "ingest": "100000/min",
        "open_data": "100000/min",
    },
}

# Tests that need two-factor login turn it on with the `settings` fixture.
SECURITY_2FA_REQUIRED = False
# A fixed backup key for tests; a test sets another to see a foreign key refused.
BACKUP_ENCRYPTION_KEY = "dGVzdC1vbmx5LWJhY2t1cC1rZXktMzItYnl0ZXMtISE"
# The ledger's exported tree heads: a directory of the test run (tests/conftest.py gives each
# test one of its own, since the database is reset between tests and a file would not be).
LEDGER_HEADS_DIR = env("TEST_LEDGER_HEADS_DIR", default=str(BASE_DIR / "var" / "test-ledger-heads"))  # noqa: F405
