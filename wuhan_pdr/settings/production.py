"""Production settings: secrets and hosts must come from the environment; HTTPS only."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, env

SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: refuse to start without one
# Stored credentials (channel passwords) are sealed with this key, never with one derived
# from SECRET_KEY: rotating SECRET_KEY must not lose them. Fernet.generate_key().
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY")
# The masking HMAC key: changing it changes every hashed value shown (joins across exports
# made before and after no longer match). A long random text.
MASKING_HMAC_KEY = env("MASKING_HMAC_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DEMO_SEED_ALLOWED = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"

# Outbound connections never reach the platform's own machine or database server on a server,
# whatever the environment says (decision 0010); private networks only where listed in
# AGGREGATION_PULL_ALLOWED_NETWORKS / AGGREGATION_EXTRACT_ALLOWED_NETWORKS.
AGGREGATION_PULL_ALLOW_LOOPBACK = False
AGGREGATION_EXTRACT_ALLOW_LOOPBACK = False
AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB = False

# Behind the HTTPS proxy (see SECURE_PROXY_SSL_HEADER): the client is the address it appends to
# X-Forwarded-For. Throttling (DRF) and django-axes read the same count.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": TRUSTED_PROXY_COUNT}
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
)
